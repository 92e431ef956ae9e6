// What the hub's bin starts Node with (plain JavaScript: it runs before the app is loaded).

/** Set in the environment of the process the bin replaced itself with: never twice. */
export const STARTED = 'IOT_HUB_STARTED';

/**
 * The young generation's semi-spaces, MB. Node 24 sizes them from the machine's memory (a young
 * generation of 134 MB at a busy hub's peak on a 24 GB machine), for no speed; 4 MB gave the
 * lowest peak at about the readings/s of 8 (test/bench/hub.ts; README, Memory).
 */
export const SEMI_SPACE_MB = 4;

/**
 * glibc's allocator, read when the process starts. Buffers of Kafka fetches and InfluxDB
 * bodies come and go by the hundred KB: by default glibc raises its mmap threshold after the
 * first is freed and keeps later ones in per-thread arenas, memory it does not give back.
 * Fixed at 128 KB they are mapped and unmapped, and two arenas do for a hub's few threads.
 */
export const MALLOC_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * The share of a memory limit (a container's or a systemd unit's cgroup) given to V8's old
 * generation. Node's own is a half: a hub holding 100k series with robust-zscore (~470 MB of
 * live heap) then ran the state benchmark in a 1 GiB cgroup at 16k records/s instead of 36k,
 * collecting all the time. The real hub (test/bench/hub-scale.ts) ran as fast with 9/16 as
 * with 5/8 (4,044 against 4,098 records/s) and left 84 MB of the limit instead of 25. Beside
 * the heap the hub keeps its ArrayBuffers (dedup ids, final windows: ~40% of the heap's size
 * at that scale), code and malloc's own (~100-180 MB): README, "In 1 GiB".
 */
export const HEAP_SHARE_OF_LIMIT = 9 / 16;

/**
 * The node flags and environment to start the hub with, or undefined when this process already
 * has them (it is the replaced one, or IOT_HUB_START_SETTINGS=0 turns the settings off).
 * Anything set already (NODE_OPTIONS, the node command line, the environment) is kept as given.
 * `memoryLimit`: the bytes this process may use when a cgroup limits it (undefined: no limit
 * below the machine's memory); the old generation then gets HEAP_SHARE_OF_LIMIT of it.
 */
export function startSettings(env, execArgv, memoryLimit) {
  if (env[STARTED] !== undefined || env.IOT_HUB_START_SETTINGS === '0') return undefined;
  const given = [...execArgv, env.NODE_OPTIONS ?? ''].join(' ');
  const flags = /--max[-_]semi[-_]space[-_]size/.test(given)
    ? []
    : [`--max-semi-space-size=${SEMI_SPACE_MB}`];
  // (A heap limit given either way wins: --max-heap-size too, which the old space's would override.)
  if (memoryLimit !== undefined && !/--max[-_](old[-_]space|heap)[-_]size/.test(given))
    flags.push(`--max-old-space-size=${heapLimitMb(memoryLimit)}`);
  const next = { ...env, [STARTED]: '1' };
  for (const [key, value] of Object.entries(MALLOC_ENV)) next[key] ??= value;
  return { flags, env: next };
}

/** The old generation's limit (MB) for a process limited to `memoryLimit` bytes. */
export function heapLimitMb(memoryLimit) {
  return Math.max(64, Math.floor((memoryLimit / 2 ** 20) * HEAP_SHARE_OF_LIMIT));
}

/**
 * The bytes a cgroup lets this process use, when below the machine's memory; else undefined.
 * (Node's `process.constrainedMemory()`: 0 or a huge number without a limit, by version.)
 */
export function cgroupLimit(constrained, total) {
  return constrained > 0 && constrained < total ? constrained : undefined;
}
