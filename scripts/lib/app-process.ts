import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const BINS = {
  gateway: join(REPO_ROOT, 'gateway/bin/iot-gateway.js'),
  hub: join(REPO_ROOT, 'hub/bin/iot-hub.js'),
  sim: join(REPO_ROOT, 'simulators/bin/iot-sim.js'),
} as const;

/** One pino log line, parsed. */
export type LogLine = Record<string, unknown> & { level?: number; msg?: string };

export interface AppProcess {
  name: string;
  child: ChildProcess;
  /** Every parsed log line so far. */
  lines: LogLine[];
  /** Resolves with the first log line (past or future) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM (or another signal), then the exit code; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface SpawnAppOptions {
  name: string;
  bin: string;
  args?: string[];
  /** The node to run it with (default: this process's); e.g. an emulated arm64 node's wrapper. */
  node?: string;
  /** Node's own flags, before the bin (the hub's bin adds its own memory flags: start-settings.js). */
  nodeFlags?: string[];
  env?: Record<string, string>;
  /** Also append raw output here. */
  logFile?: string;
  /** Called for every line that is not JSON (stderr messages, stack traces). */
  onText?: (text: string) => void;
  onLine?: (line: LogLine) => void;
}

/**
 * The gateway's Kafka client for a test run: `GATEWAY_KAFKA_CLIENT=platformatic npx vitest run
 * test/fault` runs every gateway the tests start with `kafka.client: platformatic` (the
 * gateway reads that variable; the hub has its own, HUB_KAFKA_CLIENT). Unset: the default.
 */
export const gatewayKafkaClient = (): string | undefined =>
  process.env.GATEWAY_KAFKA_CLIENT || undefined;

/** Starts one of the apps (gateway, hub, simulator) as a real child process. */
export function spawnApp(options: SpawnAppOptions): AppProcess {
  const child = spawn(
    options.node ?? process.execPath,
    [...(options.nodeFlags ?? []), options.bin, ...(options.args ?? [])],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const file = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const lines: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const onRaw = (raw: string) => {
    file?.write(`${raw}\n`);
    let line: LogLine | undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object') line = parsed as LogLine;
    } catch {
      options.onText?.(raw);
      return;
    }
    if (!line) return;
    lines.push(line);
    options.onLine?.(line);
    for (const w of waiters) {
      if (w.match(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onRaw);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', onRaw);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      file?.end();
      resolve(code ?? (signal ? null : 0));
    });
  });

  return {
    name: options.name,
    child,
    lines,
    exited,
    waitFor(match, timeoutMs = 60_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const tail = lines
            .slice(-10)
            .map((l) => JSON.stringify(l))
            .join('\n');
          reject(
            new Error(
              `${options.name}: no matching log line within ${timeoutMs} ms; last lines:\n${tail}`,
            ),
          );
        }, timeoutMs);
        waiter.resolve = (l) => {
          clearTimeout(timer);
          resolve(l);
        };
        waiters.add(waiter);
        exited.then((code) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          const tail = lines
            .slice(-10)
            .map((l) => JSON.stringify(l))
            .join('\n');
          reject(
            new Error(
              `${options.name} exited (code ${code}) before it was ready; last lines:\n${tail}`,
            ),
          );
        });
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
