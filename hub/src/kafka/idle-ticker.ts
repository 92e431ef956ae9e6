import { tickMessage } from '@iot-stream/contracts';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';

export interface IdleTickerOptions {
  topic: string;
  /** A partition quiet this long (wall clock) gets a tick; also the check interval. */
  quietMs: number;
  /** Owned partitions that processed nothing for `quietMs`. */
  quiet: (now: number, quietMs: number) => number[];
  send: (topic: string, messages: Message[]) => Promise<void>;
  log: Logger;
  now?: () => number;
}

/**
 * Event time comes from the records, so a partition that receives none stands still: a silent
 * device alone in it would never be reported missing. Every `quietMs`, the ticker appends a tick
 * control record (the hub's clock) to each quiet partition this hub owns. Being in the log, the
 * tick is replayed at the same place, so outputs stay deterministic; a tick lands after
 * whatever the partition already holds, so it never overtakes readings.
 */
export class IdleTicker {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  readonly counters = { ticks: 0 };

  constructor(private readonly options: IdleTickerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.quietMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const partitions = this.options.quiet(now, this.options.quietMs);
    if (partitions.length === 0) return;
    try {
      await this.options.send(
        this.options.topic,
        partitions.map((partition) => ({ partition, ...tickMessage(now) })),
      );
      this.counters.ticks += partitions.length;
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0)
        this.options.log.warn({ err, partitions }, 'tick for quiet partitions not sent');
    }
  }
}
