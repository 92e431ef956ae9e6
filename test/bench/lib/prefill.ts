import { statSync } from 'node:fs';
import { SqliteOutbox } from '../../../gateway/src/outbox/sqlite-outbox.ts';
import { round } from './proc.ts';

export interface PrefillResult {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  fileMb: number;
}

const DEVICES = 100;

/**
 * Fills an outbox file with `rows` readings through the gateway's own SqliteOutbox (default
 * options: synchronous=FULL, group commit), `chunk` appends in flight at a time.
 */
export async function prefillOutbox(
  path: string,
  rows: number,
  chunk = 10_000,
): Promise<PrefillResult> {
  const outbox = new SqliteOutbox({ path });
  const session = Date.now() % 1_000_000_000;
  const started = Date.now();
  try {
    for (let from = 0; from < rows; from += chunk) {
      const appends: Promise<unknown>[] = [];
      const now = Date.now();
      for (let k = from; k < Math.min(rows, from + chunk); k += 1) {
        const n = Math.floor(k / DEVICES); // k-th reading overall is device k % DEVICES's n-th
        appends.push(
          outbox.append({
            deviceId: `backlog-${k % DEVICES}`,
            session: session + Math.floor(n / 65_536),
            seq: n % 65_536,
            time: now,
            receivedAt: now,
            metrics: {
              temperature: { value: 20 + (k % 100) / 10, unit: 'Cel' },
              humidity: { value: 40.2, unit: '%RH' },
            },
          }),
        );
      }
      await Promise.all(appends);
    }
  } finally {
    outbox.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  return {
    rows,
    seconds: round(seconds, 2),
    rowsPerSec: Math.round(rows / seconds),
    fileMb: round((size(path) + size(`${path}-wal`)) / 1024 / 1024),
  };
}
