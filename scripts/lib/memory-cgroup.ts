// Memory cgroups for benchmarks and tests: a process held to a limit as a container or a
// systemd unit's MemoryMax would hold the hub: the kernel counts every page the process uses
// and kills it past the limit. Needs root and a writable memory controller (cgroup v2's
// memory.max or v1's memory.limit_in_bytes); refuses clearly otherwise.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MALLOC_ENV, startSettings } from '../../hub/bin/start-settings.js';

/** Set in the child's environment: it is the run inside the cgroup. */
const INSIDE = 'IOT_BENCH_MEMORY_CGROUP';

export interface Cgroup {
  dir: string;
  /** The file that takes the limit in bytes. */
  limitFile: string;
  /** What the kernel reports afterwards: the peak charged and how often the limit was hit. */
  report(): string;
  /** Whether the kernel killed a process of the group for memory. */
  oomKilled(): boolean;
  /** Removes the group (once its processes are gone). */
  remove(): void;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '?';
  }
}

function oomKills(events: string): number {
  return Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0);
}

/**
 * A fresh cgroup of `limitBytes` under whichever memory controller this machine lets root
 * write. A process joins it by writing its pid to `${dir}/cgroup.procs` (joinCommand).
 */
export function memoryCgroup(name: string, limitBytes: number): Cgroup {
  const group = makeCgroup(name);
  try {
    writeFileSync(group.limitFile, String(limitBytes));
  } catch (err) {
    group.remove();
    throw new Error(`could not set the memory limit of cgroup ${group.dir}: ${err}`);
  }
  return group;
}

/** `sh -c` arguments that join `dir` and then exec `command` (so all it starts is counted). */
export function joinCommand(dir: string, command: readonly string[]): string[] {
  return ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...command];
}

function removeDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    // (A v1 group may be busy a moment after its last process: said, not fatal.)
    console.warn(`cgroup ${dir} left behind: ${err}`);
  }
}

/** A charged peak in MB, or what the kernel does not give (memory.peak: Linux 5.19+). */
function peakMb(file: string): string {
  const bytes = Number(read(file));
  return Number.isFinite(bytes) ? `${Math.round(bytes / 2 ** 20)} MB` : 'unknown (no peak counter)';
}

/** Each cgroup version's files: the limit, the charged peak, what else to report, OOM kills. */
const VERSIONS = [
  {
    // v2: a child of the root gets the memory controller only when the root hands it down.
    root: '/sys/fs/cgroup',
    usable: (root: string) =>
      read(join(root, 'cgroup.subtree_control')).split(/\s+/).includes('memory'),
    limit: 'memory.max',
    peak: 'memory.peak',
    more: (dir: string) => `events: ${read(join(dir, 'memory.events')).replace(/\n/g, ', ')}`,
    oom: 'memory.events',
  },
  {
    root: '/sys/fs/cgroup/memory',
    usable: (root: string) => existsSync(join(root, 'memory.limit_in_bytes')),
    limit: 'memory.limit_in_bytes',
    peak: 'memory.max_usage_in_bytes',
    more: (dir: string) => `limit hit ${read(join(dir, 'memory.failcnt'))} times`,
    oom: 'memory.oom_control',
  },
];

/** (Made at the root of either hierarchy: the benchmark's limit is then the only one.) */
function makeCgroup(name: string): Cgroup {
  const v = VERSIONS.find((version) => version.usable(version.root));
  if (!v)
    throw new Error(
      'a memory cgroup needs root and a writable memory controller (cgroup v2 or v1 under /sys/fs/cgroup)',
    );
  const dir = join(v.root, name);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    limitFile: join(dir, v.limit),
    report: () => `peak charged ${peakMb(join(dir, v.peak))}, ${v.more(dir)}`,
    oomKilled: () => oomKills(read(join(dir, v.oom))) > 0,
    remove: () => removeDir(dir),
  };
}

/**
 * With `--memory-limit MB` in argv, outside the cgroup: runs this script again inside a new
 * one limited to MB, with the flags the hub's bin gives a process under that limit
 * (hub/bin/start-settings.js: the figure is the hub's own), and exits with its status (never
 * returns). Otherwise returns the limit
 * in force (MB) or undefined, and the script runs as usual.
 */
export async function withinMemoryLimit(argv: readonly string[]): Promise<number | undefined> {
  const at = argv.indexOf('--memory-limit');
  if (at < 0) return undefined;
  const mb = Number(argv[at + 1]);
  if (!Number.isInteger(mb) || mb < 64)
    throw new Error(`--memory-limit takes MB (>= 64), got ${argv[at + 1]}`);
  if (process.env[INSIDE]) return mb;
  const group = memoryCgroup(`iot-bench-${process.pid}`, mb * 2 ** 20);
  const settings = startSettings({}, process.execArgv, mb * 2 ** 20);
  const flags = [...(settings?.flags ?? []), ...process.execArgv];
  console.log(`in a memory cgroup of ${mb} MB (${group.dir}), node ${flags.join(' ')}`);
  // The shell joins the group first, so everything the benchmark starts is counted.
  const child = spawn(
    'sh',
    joinCommand(group.dir, [process.execPath, ...flags, ...process.argv.slice(1)]),
    {
      stdio: 'inherit',
      env: { ...MALLOC_ENV, ...process.env, [INSIDE]: '1' },
    },
  );
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('exit', (c, s) => resolve([c, s]));
    child.on('error', (err) => {
      console.error(`could not start the run in the cgroup: ${err}`);
      resolve([1, null]);
    });
  });
  console.log(`memory cgroup: ${group.report()}${group.oomKilled() ? ', KILLED for memory' : ''}`);
  group.remove();
  process.exit(code ?? (signal ? 1 : 0));
}

/**
 * A script in `dir` that runs node (this process's) inside `group`: give it as the `node` to
 * start an app with (scripts/lib/app-process.ts), and the app's bin sees the limit.
 */
export function nodeInCgroup(group: Cgroup, dir: string): string {
  const wrapper = join(dir, `node-in-${basename(group.dir)}.sh`);
  const command = joinCommand(group.dir, [process.execPath]).map(
    (a) => `'${a.replaceAll("'", "'\\''")}'`,
  );
  writeFileSync(wrapper, `#!/bin/sh\nexec sh ${command.join(' ')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}
