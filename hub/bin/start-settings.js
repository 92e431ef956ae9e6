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
 * The node flags and environment to start the hub with, or undefined when this process already
 * has them (it is the replaced one, or IOT_HUB_START_SETTINGS=0 turns the settings off).
 * Anything set already (NODE_OPTIONS, the node command line, the environment) is kept as given.
 */
export function startSettings(env, execArgv) {
  if (env[STARTED] !== undefined || env.IOT_HUB_START_SETTINGS === '0') return undefined;
  const given = [...execArgv, env.NODE_OPTIONS ?? ''].join(' ');
  const flags = /--max[-_]semi[-_]space[-_]size/.test(given)
    ? []
    : [`--max-semi-space-size=${SEMI_SPACE_MB}`];
  const next = { ...env, [STARTED]: '1' };
  for (const [key, value] of Object.entries(MALLOC_ENV)) next[key] ??= value;
  return { flags, env: next };
}
