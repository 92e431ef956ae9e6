import type { LabelFile } from '../anomalies/labels.ts';
import type { SimClock } from '../clock.ts';
import type { Transport } from '../ports.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS, runFleet } from '../runner.ts';
import type { ReadingSource } from '../sample.ts';
import { dur, int, str, type Values } from './args.ts';
import type { CliIo } from './io.ts';
import { progressFor } from './progress.ts';

export const FIRMWARE = 'iot-sim/0.1.0';

export interface Execution {
  command: string;
  sources: readonly ReadingSource[];
  transport: Transport;
  clock: SimClock;
  seed: number;
  labels?: LabelFile | undefined;
  defaultWindow?: number;
  /** Extra summary fields, read after the run (reboots, malformed lines, ...). */
  extra?: () => Record<string, unknown>;
}

/** Runs the sources, prints progress and the JSON summary; 1 when any reading failed. */
export async function execute(e: Execution, v: Values, io: CliIo): Promise<number> {
  const progress = progressFor(v, io, `iot-sim ${e.command}`);
  const duration = dur(v, 'duration', 's');
  let summary: Awaited<ReturnType<typeof runFleet>>;
  try {
    summary = await runFleet({
      sources: e.sources,
      transport: e.transport,
      clock: e.clock,
      firmware: str(v, 'firmware') ?? FIRMWARE,
      count: int(v, 'count', 1),
      durationMs: duration,
      window: int(v, 'window', 1) ?? e.defaultWindow,
      drainTimeoutMs: dur(v, 'drain-timeout', 's') ?? DEFAULT_DRAIN_TIMEOUT_MS,
      signal: io.signal,
      onProgress: progress ? (s) => progress.update(s) : undefined,
    });
  } finally {
    progress?.done();
    await e.labels?.close();
  }
  const out = {
    command: e.command,
    ...summary,
    seed: e.seed,
    ...e.extra?.(),
    ...(e.labels ? { labels: e.labels.count, labelsFile: e.labels.path } : {}),
    transport: { name: e.transport.name, ...e.transport.counters() },
  };
  io.stdout.write(`${JSON.stringify(out)}\n`);
  return summary.failed > 0 ? 1 : 0;
}
