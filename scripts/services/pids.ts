import { accessSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Pid-based process control for servers this process did not start (CLI `status`, `down`). */

/** Is `pid` a live (not zombie) process whose command line contains `marker`? */
export function pidAlive(pid: number, marker?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    // No /proc (not Linux): trust kill(0). ENOENT: it exited in between.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !hasProcFs();
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
  if (state === 'Z' || state === 'X') return false;
  if (marker === undefined) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

function hasProcFs(): boolean {
  try {
    accessSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a process this process did not start (CLI `down`): SIGTERM, wait, then SIGKILL.
 * `marker` (a string in its command line) guards against a recycled pid.
 */
export async function stopPid(
  pid: number,
  options: { marker?: string; timeoutMs?: number } = {},
): Promise<'not-running' | 'stopped' | 'killed'> {
  if (!pidAlive(pid, options.marker)) return 'not-running';
  signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (!pidAlive(pid, options.marker)) return 'stopped';
    await delay(100);
  }
  if (pidAlive(pid, options.marker)) signalPid(pid, 'SIGKILL');
  while (pidAlive(pid, options.marker)) await delay(50);
  return 'killed';
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: gone already
  }
}
