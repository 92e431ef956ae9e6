import type { Logger } from 'pino';
import { HUB_HEALTH, type Sample } from '../store/points.ts';

/** The cumulative numbers the reporter turns into one `hub_health` point per interval. */
export interface HealthCounters {
  readings: number;
  records: number;
  lag: Record<string, number>;
  partitions: number;
  writes: number;
  writeMs: number;
  writeMsMax: number;
  writeFailures: number;
  invalid: number;
  tooLate: number;
  rejected: number;
  writeRejected: number;
  duplicates: number;
  episodeEvents: number;
  notifications: number;
  notificationFailures: number;
  notificationsUncertain: number;
}

export interface HealthReporterOptions {
  /** The hub instance (tag `hub`): bounded, so a host name, not a process id. */
  instance: string;
  intervalMs: number;
  read: () => HealthCounters;
  /** Starts a new interval for `writeMsMax`. */
  resetWriteMax: () => void;
  write: (point: Sample) => Promise<void>;
  log: Logger;
  now?: () => number;
}

/**
 * Every `intervalMs`, writes the pipeline's own health to InfluxDB (`hub_health`, wall-clock
 * time, raw retention): rates over the interval, lag, write latency (mean and max over the
 * interval) and cumulative error counts. A failed write is logged and skipped: the next point
 * carries the cumulative counts, so nothing is lost but resolution.
 */
export class HealthReporter {
  private timer: NodeJS.Timeout | undefined;
  private last: { at: number; c: HealthCounters } | undefined;
  private failures = 0;

  constructor(private readonly options: HealthReporterOptions) {}

  start(): void {
    const now = this.options.now ?? Date.now;
    this.last = { at: now(), c: structuredClone(this.options.read()) };
    this.timer ??= setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The point for the interval since the previous call. */
  sample(): Sample {
    const now = (this.options.now ?? Date.now)();
    const c = structuredClone(this.options.read());
    this.options.resetWriteMax();
    const prev = this.last ?? { at: now, c };
    this.last = { at: now, c };
    const seconds = Math.max(0.001, (now - prev.at) / 1000);
    const writes = c.writes - prev.c.writes;
    const lag = Object.values(c.lag).reduce((a, b) => a + b, 0);
    return {
      measurement: HUB_HEALTH,
      tags: { hub: this.options.instance },
      fields: {
        readings_per_s: (c.readings - prev.c.readings) / seconds,
        records_per_s: (c.records - prev.c.records) / seconds,
        lag,
        partitions: c.partitions,
        write_latency_ms: writes > 0 ? (c.writeMs - prev.c.writeMs) / writes : 0,
        write_latency_max_ms: c.writeMsMax,
        write_errors: c.writeFailures,
        dead_letters: c.invalid + c.rejected + c.writeRejected,
        duplicates: c.duplicates,
        too_late: c.tooLate,
        episode_events: c.episodeEvents,
        notifications: c.notifications,
        notification_failures: c.notificationFailures,
        notifications_uncertain: c.notificationsUncertain,
      },
      timestamp: now,
    };
  }

  async report(): Promise<void> {
    const point = this.sample();
    try {
      await this.options.write(point);
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0)
        this.options.log.warn({ err, failures: this.failures }, 'hub health point not written');
    }
  }
}
