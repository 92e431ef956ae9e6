import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidAlive } from './pids.ts';
import type { Services } from './services.ts';

/** What `up` leaves behind for `status` and `down`: `<repo>/.services/state.json`. */
export interface ServicesState {
  version: 1;
  /** Configs, data and logs; every server's command line contains it (guards against pid reuse). */
  dir: string;
  startedAt: string;
  kafka?: {
    brokers: string[];
    nodes: { name: string; pid: number; address: string; logFile: string }[];
  };
  influx?: { name: string; pid: number; url: string; logFile: string };
}

export interface ServerEntry {
  name: string;
  pid: number;
  address: string;
  logFile: string;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.services');

export function stateFile(stateDir: string): string {
  return join(stateDir, 'state.json');
}

export function stateFromServices(services: Services): ServicesState {
  const state: ServicesState = {
    version: 1,
    dir: services.dir,
    startedAt: new Date().toISOString(),
  };
  if (services.kafka !== undefined) {
    state.kafka = {
      brokers: services.kafkaBrokers,
      nodes: services.kafka.nodes().map((n) => ({
        name: `kafka-${n.id}`,
        pid: n.pid ?? 0,
        address: `127.0.0.1:${n.port}`,
        logFile: n.logFile,
      })),
    };
  }
  if (services.influx !== undefined) {
    const url = services.influx.url;
    state.influx = {
      name: 'influxd',
      pid: services.influx.pid() ?? 0,
      url,
      logFile: services.influx.logFile,
    };
  }
  return state;
}

/** Every server of a state, in a uniform shape. */
export function servers(state: ServicesState): ServerEntry[] {
  const list: ServerEntry[] = [...(state.kafka?.nodes ?? [])];
  if (state.influx !== undefined) list.push({ ...state.influx, address: state.influx.url });
  return list;
}

export function isAlive(state: ServicesState, server: ServerEntry): boolean {
  return server.pid > 0 && pidAlive(server.pid, state.dir);
}

/** The stdout lines of `up`: what a shell or vitest needs to reach the servers. */
export function envLines(state: ServicesState): string[] {
  const lines: string[] = [];
  if (state.kafka !== undefined) lines.push(`KAFKA_BROKERS=${state.kafka.brokers.join(',')}`);
  if (state.influx !== undefined) lines.push(`INFLUX_URL=${state.influx.url}`);
  return lines;
}

export async function readState(stateDir: string): Promise<ServicesState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const state = JSON.parse(text) as ServicesState;
  return state.version === 1 ? state : undefined;
}

/** Written to a temp file and renamed: a reader never sees half a state. */
export async function writeState(stateDir: string, state: ServicesState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const tmp = `${stateFile(stateDir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, stateFile(stateDir));
}

export async function removeState(stateDir: string): Promise<void> {
  await rm(stateFile(stateDir), { force: true });
}
