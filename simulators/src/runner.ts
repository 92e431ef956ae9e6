import { setMaxListeners } from 'node:events';
import type { SimClock } from './clock.ts';
import type { DataPayload } from './fleet.ts';
import { LatencyRecorder, type LatencySummary } from './latency.ts';
import type { Transport } from './ports.ts';
import { type ReadingSource, type Sample, toJsonReading } from './sample.ts';

export interface RunOptions {
  sources: readonly ReadingSource[];
  transport: Transport;
  clock: SimClock;
  firmware?: string;
  /** Readings sent per device, then it stops. */
  count?: number | undefined;
  /** Simulated time after which no reading is taken. */
  durationMs?: number | undefined;
  /** Readings in flight (unacknowledged) per device; the device waits when it is full. */
  window?: number;
  /** How long to wait for outstanding acknowledgements at the end (ms). */
  drainTimeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Wall clock for elapsed time and latencies. */
  wallNow?: () => number;
  onProgress?: ((summary: RunSummary) => void) | undefined;
  progressIntervalMs?: number;
  onAck?: ((deviceId: string, payload: DataPayload) => void) | undefined;
}

export interface RunSummary {
  devices: number;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Sent, not yet acknowledged or failed. */
  inflight: number;
  elapsedMs: number;
  /** Acknowledged readings per second of wall time. */
  ratePerSec: number;
  ackLatencyMs?: LatencySummary;
}

interface DeviceRun {
  source: ReadingSource;
  sent: number;
  inflight: number;
  pending: Set<Promise<void>>;
  wake: Array<() => void>;
}

export const DEFAULT_WINDOW = 100;
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * Runs readings sources through a transport until each is done, the count or duration is
 * reached, or the signal aborts; then waits (bounded) for outstanding acknowledgements and
 * stops every device. Counts sent, acknowledged and failed readings and ack latencies.
 */
export async function runFleet(options: RunOptions): Promise<RunSummary> {
  const { transport, clock, signal } = options;
  const wallNow = options.wallNow ?? Date.now;
  const started = wallNow();
  const window = Math.max(1, options.window ?? DEFAULT_WINDOW);
  const drainMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const deadline =
    options.durationMs === undefined ? Number.POSITIVE_INFINITY : clock.start + options.durationMs;
  // Every device sleeps on the signal at once: one abort listener each.
  if (signal) setMaxListeners(Math.max(10, 2 * options.sources.length + 10), signal);
  const latency = new LatencyRecorder();
  const totals = { sent: 0, acknowledged: 0, failed: 0 };
  const runs: DeviceRun[] = options.sources.map((source) => ({
    source,
    sent: 0,
    inflight: 0,
    pending: new Set(),
    wake: [],
  }));
  const snapshot = (withLatency: boolean): RunSummary => {
    const elapsedMs = wallNow() - started;
    const summary: RunSummary = {
      devices: runs.length,
      ...totals,
      inflight: totals.sent - totals.acknowledged - totals.failed,
      elapsedMs,
      ratePerSec: elapsedMs > 0 ? Math.round((totals.acknowledged * 10_000) / elapsedMs) / 10 : 0,
    };
    const l = withLatency ? latency.summary() : undefined;
    if (l) summary.ackLatencyMs = l;
    return summary;
  };

  const startups = await Promise.allSettled(
    runs.map((r) =>
      transport.start(
        { id: r.source.id, firmware: options.firmware ?? 'iot-sim', metrics: r.source.metrics },
        r.source.session,
      ),
    ),
  );
  const failure = startups.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.allSettled(runs.map((r) => transport.stop(r.source.id)));
    throw (failure as PromiseRejectedResult).reason;
  }

  const dispatch = (run: DeviceRun, sample: Sample) => {
    run.sent += 1;
    run.inflight += 1;
    totals.sent += 1;
    const sentAt = performance.now();
    const p = transport.send(run.source.id, sample).then((result) => {
      run.inflight -= 1;
      if (result.ok) {
        totals.acknowledged += 1;
        latency.add(performance.now() - sentAt);
        options.onAck?.(run.source.id, toJsonReading(sample, result.session, result.seq));
      } else totals.failed += 1;
      for (const w of run.wake.splice(0)) w();
    });
    run.pending.add(p);
    void p.then(() => run.pending.delete(p));
  };
  const waitFor = (run: DeviceRun, ready: () => boolean, timeoutMs = Number.POSITIVE_INFINITY) =>
    new Promise<void>((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(resolve, timeoutMs) : undefined;
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else run.wake.push(check);
      };
      check();
    });
  const full = (run: DeviceRun) => options.count !== undefined && run.sent >= options.count;

  const runOne = async (run: DeviceRun) => {
    const { source } = run;
    while (!signal?.aborted && !full(run)) {
      const next = await source.peek();
      if (next === undefined) break;
      const at = source.intervalMs > 0 ? next : Math.max(next, clock.now());
      if (at >= deadline) break;
      await clock.sleepUntil(at, signal);
      if (signal?.aborted) break;
      const step = await source.take(at);
      if (step.reboot !== undefined) {
        await waitFor(run, () => run.inflight === 0, drainMs);
        await transport.reboot(source.id, step.reboot);
      }
      for (const sample of step.samples) {
        if (full(run)) break;
        await waitFor(run, () => run.inflight < window);
        dispatch(run, sample);
      }
    }
    for (const sample of source.drain()) if (!full(run)) dispatch(run, sample);
    await waitFor(run, () => run.inflight === 0, drainMs);
    await transport.stop(source.id);
    await Promise.all(run.pending);
  };

  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(snapshot(false)), options.progressIntervalMs ?? 1000)
    : undefined;
  try {
    await Promise.all(runs.map(runOne));
  } finally {
    clearInterval(progress);
  }
  return snapshot(true);
}
