import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * Makes sure the server processes started here never outlive this process:
 * - on `exit`, SIGINT and SIGTERM of this process every tracked child gets SIGKILL (the data
 *   dirs are throwaway, and an `exit` handler cannot wait for a graceful shutdown);
 * - a tiny `sh` watchdog per child covers the one case no handler sees, this process being
 *   SIGKILLed: it polls both pids once a second and kills the orphan;
 * - a forked worker (vitest's pool) kills them when its IPC channel to the parent closes;
 * - scratch dirs registered with `removeOnExit` are deleted on those same paths.
 * Detached servers (CLI `up`) are guarded the same way until `releaseAll()` (their pids are in
 * the state file by then), which also kills their watchdogs: an interrupted or killed `up`
 * leaves nothing behind.
 */

/** Tracked children and their watchdogs (undefined when `sh` could not be started). */
const children = new Map<ChildProcess, ChildProcess | undefined>();
const scratchDirs = new Set<string>();
let installed = false;
/** A forked worker (vitest's pool) whose parent has gone: anything new is killed at once. */
let orphaned = false;

const WATCHDOG = [
  'while kill -0 "$1" 2>/dev/null; do',
  '  kill -0 "$2" 2>/dev/null || exit 0',
  '  sleep 1',
  'done',
  'kill -KILL "$2" 2>/dev/null',
].join('\n');

export function killWithParent(child: ChildProcess): void {
  install();
  if (orphaned) child.kill('SIGKILL');
  children.set(child, child.pid === undefined ? undefined : spawnWatchdog(child.pid));
  child.once('exit', () => children.delete(child)); // its watchdog exits within a second
}

function spawnWatchdog(pid: number): ChildProcess {
  const args = ['-c', WATCHDOG, 'harness-watchdog', String(process.pid), String(pid)];
  const watchdog = spawn('sh', args, { stdio: 'ignore', detached: true });
  watchdog.on('error', () => {}); // no sh: the exit handlers still apply
  watchdog.unref();
  return watchdog;
}

/** Stops guarding every tracked child and dir: they now outlive this process (CLI `up`). */
export function releaseAll(): void {
  for (const watchdog of children.values()) watchdog?.kill('SIGKILL');
  children.clear();
  scratchDirs.clear();
}

/** Deleted if this process exits before `forgetScratchDir` (throwaway data of running servers). */
export function removeOnExit(dir: string): void {
  install();
  scratchDirs.add(dir);
}

export function forgetScratchDir(dir: string): void {
  scratchDirs.delete(dir);
}

function onExit(): void {
  killAll();
  for (const dir of scratchDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    } catch {
      // best effort: a dying server may still hold it
    }
  }
}

function onParentGone(): void {
  orphaned = true;
  killAll();
}

function killAll(): void {
  for (const child of children.keys()) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  onExit(); // a re-raised signal kills this process without an 'exit' event
  process.removeListener(signal, onSignal);
  // Nobody else handles it: restore the default behaviour (terminate) by re-raising.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  // A forked worker (vitest's default pool) outlives a SIGTERMed/SIGKILLed parent and would keep
  // its servers running until its test ends: the closed IPC channel says the parent is gone.
  if (typeof process.send === 'function') {
    if (process.connected) process.once('disconnect', onParentGone);
    else orphaned = true;
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
