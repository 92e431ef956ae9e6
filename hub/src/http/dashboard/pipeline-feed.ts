import type { ReadingRecord } from '@iot-stream/contracts';
import type { Episode, EpisodeEvent } from '../../detect/engine-types.ts';
import type { LiveFeed } from './live-feed.ts';

/** What the pipeline hands over once a batch is in InfluxDB (a subset of `PartitionOutput`). */
export interface WrittenBatch {
  readings: readonly ReadingRecord[];
  events: readonly EpisodeEvent[];
}

export interface PipelineFeedOptions {
  /** Readings are gathered and published at most this often. */
  flushMs?: number;
  /** Newest readings per device kept for one flush; older ones in it are left out. */
  maxPerDevice?: number;
}

/** One reading as the dashboard's `readings` event carries it (time in epoch ms). */
export interface LiveReading {
  time: number;
  metrics: Record<string, { value: number; unit?: string }>;
}

/** The `seen` event: devices with readings in the last flush (the fleet's "last seen"). */
export interface SeenEvent {
  devices: { deviceId: string; gateway: string; lastSeen: number; readings: number }[];
}

/** The `readings` event: one device's new readings, oldest first (only to its subscribers). */
export interface ReadingsEvent {
  deviceId: string;
  readings: LiveReading[];
}

/** The `anomaly` event: an episode opened, updated, re-notified or closed. */
export interface AnomalyEvent {
  type: EpisodeEvent['type'];
  time: number;
  episode: Episode;
}

interface Pending {
  gateway: string;
  lastSeen: number;
  count: number;
  readings: LiveReading[];
}

/**
 * Turns the pipeline's written batches into dashboard events: readings are gathered per device
 * and published every `flushMs` (one `seen` event for the fleet, one `readings` event per
 * device for its page), so a busy pipeline sends a few events a second, not one per batch;
 * episode events go out at once as `anomaly`. Nothing is gathered while nobody listens.
 */
export class PipelineFeed {
  private readonly flushMs: number;
  private readonly maxPerDevice: number;
  private pending = new Map<string, Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly feed: LiveFeed,
    options: PipelineFeedOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 500;
    this.maxPerDevice = options.maxPerDevice ?? 200;
  }

  /** The pipeline's `onWritten` hook. */
  readonly onWritten = (batch: WrittenBatch): void => {
    if (!this.feed.active) return;
    for (const e of batch.events)
      this.feed.publish('anomaly', {
        type: e.type,
        time: e.time,
        episode: e.episode,
      } satisfies AnomalyEvent);
    for (const r of batch.readings) this.add(r);
    if (this.pending.size > 0 && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref?.();
    }
  };

  /** Publishes what was gathered. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    this.feed.publish('seen', {
      devices: [...pending].map(([deviceId, p]) => ({
        deviceId,
        gateway: p.gateway,
        lastSeen: p.lastSeen,
        readings: p.count,
      })),
    } satisfies SeenEvent);
    for (const [deviceId, p] of pending)
      this.feed.publish(
        'readings',
        { deviceId, readings: p.readings.sort((a, b) => a.time - b.time) } satisfies ReadingsEvent,
        { topic: deviceId },
      );
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private add(r: ReadingRecord): void {
    let p = this.pending.get(r.deviceId);
    if (!p) {
      p = { gateway: r.gatewayId, lastSeen: r.time, count: 0, readings: [] };
      this.pending.set(r.deviceId, p);
    }
    p.count += 1;
    if (r.time >= p.lastSeen) {
      p.lastSeen = r.time;
      p.gateway = r.gatewayId;
    }
    p.readings.push({ time: r.time, metrics: r.metrics });
    if (p.readings.length > this.maxPerDevice) p.readings.shift();
  }
}
