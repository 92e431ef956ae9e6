import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { HarnessError } from './errors.ts';
import { killWithParent } from './reaper.ts';

export type Log = (msg: string) => void;
export const stderrLog: Log = (msg) => process.stderr.write(`${msg}\n`);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** true: the server outlives this process (CLI `up`); false: it dies with this process. */
  detached: boolean;
}

/** One running server process, started by this process. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles (never rejects) when the process has exited. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILL. Resolves once the process is gone. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export async function spawnServer(spec: ServerSpec): Promise<ServerProcess> {
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: spec.detached,
    });
  } finally {
    closeSync(fd);
  }
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    const cause = await new Promise<Error>((resolve) => child.once('error', resolve));
    const message = `${spec.name}: cannot run ${spec.command}: ${cause.message}`;
    throw new HarnessError('SERVER_EXITED', message, { cause, logFile: spec.logFile });
  }
  child.on('error', () => {}); // a failed kill() of an exited process: nothing to do
  // Detached: guarded only until the caller calls releaseAll(); see reaper.ts.
  if (spec.detached) child.unref();
  killWithParent(child);

  const running = () => exitInfo === undefined;
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    running,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!running()) return;
      child.kill(signal);
      const cancel = new AbortController();
      const timer = delay(timeoutMs, 'timeout' as const, { signal: cancel.signal }).catch(
        () => 'cancelled' as const,
      );
      const first = await Promise.race([exited, timer]);
      cancel.abort();
      if (first === 'timeout' && running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * Calls `probe` until it returns a value (undefined or a throw means "not yet"). `check` runs
 * before each probe and throws to give up early, e.g. when the server has exited.
 */
export async function pollUntil<T>(options: {
  probe: () => Promise<T | undefined>;
  timeoutMs: number;
  intervalMs?: number;
  check?: () => void;
  timeoutError: (lastError: unknown) => Error;
}): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.check?.();
    try {
      const value = await options.probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw options.timeoutError(lastError);
    await delay(options.intervalMs ?? 250);
  }
}

/** The last `lines` lines of a log file, from its last 64 KiB ('' when it does not exist). */
export function tailFile(path: string, lines = 30): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, chunk, 0, chunk.length, size - chunk.length);
    return chunk.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** Full path of `command` on PATH, or undefined. */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const execFileAsync = promisify(execFile);

/** Runs a short command to completion; rejects with its stderr in the message. */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string; code?: unknown; signal?: unknown };
    const output = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim().split('\n').slice(-30).join('\n');
    const how = typeof e.code === 'number' ? `exit code ${e.code}` : String(e.signal ?? e.code);
    throw new Error(`${command} ${args.join(' ')} failed (${how})\n${output}`, { cause: err });
  }
}
