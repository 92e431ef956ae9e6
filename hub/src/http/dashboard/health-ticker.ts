import type { Logger } from 'pino';
import type { GatewayStatus } from '../../ports.ts';
import type { LiveFeed } from './live-feed.ts';

/** The dashboard's `health` event. Times in epoch ms; rates null until two samples exist. */
export interface LiveHealth {
  time: number;
  status: string;
  /** `kafka` or `single-box` (HTTP ingest, no Kafka). */
  mode: string | null;
  /** `influx` or `sqlite`, and whether it answers. */
  store: { kind: string | null; ok: boolean | null };
  kafkaConnected: boolean | null;
  influxOk: boolean | null;
  readingsPerSec: number | null;
  recordsPerSec: number | null;
  readings: number;
  records: number;
  /** Per partition: records behind the high watermark after its last batch. */
  lag: Record<string, number>;
  lagTotal: number;
  gateways: {
    gatewayId: string;
    time: number;
    kafkaConnected: boolean | null;
    backlogRows: number | null;
    /** Age of the oldest buffered reading when the gateway reported. */
    backlogAgeMs: number | null;
  }[];
  backlogTotal: number;
  stream: { clients: number; dropped: number };
}

interface Sample {
  time: number;
  readings: number;
  records: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

/** Builds the event from the `/api/health` body, the gateways' status and the last sample. */
export function liveHealth(
  raw: Record<string, unknown>,
  gateways: readonly GatewayStatus[],
  prev: Sample | undefined,
  now: number,
  stream: LiveHealth['stream'],
): LiveHealth {
  const pipeline = obj(raw.pipeline);
  const readings = num(pipeline.readings);
  const records = num(pipeline.records);
  const lag = Object.fromEntries(
    Object.entries(obj(pipeline.lag)).map(([p, v]) => [p, Math.max(0, num(v))]),
  );
  const seconds = prev ? (now - prev.time) / 1000 : 0;
  const rate = (n: number, before: number | undefined) =>
    seconds > 0 && before !== undefined ? Math.max(0, (n - before) / seconds) : null;
  const kafka = obj(raw.kafka);
  const influx = obj(raw.influx);
  const store = obj(raw.store);
  const gws = gateways.map((g) => ({
    gatewayId: g.gatewayId,
    time: g.time,
    kafkaConnected: g.kafkaConnected,
    backlogRows: g.backlogRows,
    backlogAgeMs: g.oldestReceivedAt === null ? null : Math.max(0, g.time - g.oldestReceivedAt),
  }));
  return {
    time: now,
    status: typeof raw.status === 'string' ? raw.status : 'unknown',
    mode: typeof raw.mode === 'string' ? raw.mode : null,
    store: {
      kind: typeof store.kind === 'string' ? store.kind : null,
      ok: typeof store.ok === 'boolean' ? store.ok : null,
    },
    kafkaConnected: typeof kafka.connected === 'boolean' ? kafka.connected : null,
    influxOk: typeof influx.ok === 'boolean' ? influx.ok : null,
    readingsPerSec: rate(readings, prev?.readings),
    recordsPerSec: rate(records, prev?.records),
    readings,
    records,
    lag,
    lagTotal: Object.values(lag).reduce((a, b) => a + b, 0),
    gateways: gws,
    backlogTotal: gws.reduce((a, g) => a + (g.backlogRows ?? 0), 0),
    stream,
  };
}

export interface HealthTickerOptions {
  /** The `/api/health` body. */
  health: () => Promise<Record<string, unknown>>;
  /** Newest status of each gateway seen since a time. */
  gateways: (since: number) => Promise<GatewayStatus[]>;
  log: Logger;
  intervalMs?: number;
  /** Gateways report every 10 s, so their status is read this often, not every tick. */
  gatewaysEveryMs?: number;
  now?: () => number;
}

const DAY = 24 * 3_600_000;

/**
 * Publishes the pipeline's health (throughput, consumer lag, gateway backlog) as a sticky
 * `health` event every `intervalMs`, while at least one client listens; idle otherwise.
 */
export class HealthTicker {
  private timer: ReturnType<typeof setInterval> | undefined;
  private prev: Sample | undefined;
  private gateways: { at: number; list: GatewayStatus[] } | undefined;
  private running = false;

  constructor(
    private readonly feed: LiveFeed,
    private readonly options: HealthTickerOptions,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs ?? 2000);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(): Promise<void> {
    if (this.running) return;
    if (!this.feed.active) {
      // Rates over an idle stretch would mislead; start afresh with the next client.
      this.prev = undefined;
      this.gateways = undefined;
      this.feed.clearSticky('health');
      return;
    }
    this.running = true;
    try {
      const now = (this.options.now ?? Date.now)();
      const raw = await this.options.health();
      if (!this.gateways || now - this.gateways.at >= (this.options.gatewaysEveryMs ?? 10_000))
        this.gateways = { at: now, list: await this.options.gateways(now - DAY) };
      const { clients, dropped } = this.feed.counters;
      const event = liveHealth(raw, this.gateways.list, this.prev, now, { clients, dropped });
      this.prev = { time: now, readings: event.readings, records: event.records };
      this.feed.publish('health', event, { sticky: true });
    } catch (err) {
      this.options.log.warn({ err }, 'dashboard health tick failed');
    } finally {
      this.running = false;
    }
  }
}
