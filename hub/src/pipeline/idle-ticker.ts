import type { Logger } from 'pino';

export interface IdleTickerOptions {
  /** A partition quiet this long gets punctuated; also the check interval. */
  quietMs: number;
  /** Punctuates the quiet partitions; resolves with how many (Pipeline.punctuateQuiet). */
  punctuate: (quietMs: number) => Promise<number>;
  log: Logger;
}

/**
 * Event time comes from the records, so a partition that receives none stands still: a silent
 * device alone in it would never be reported missing, its windows never closed. Every `quietMs`
 * the ticker has the pipeline punctuate its quiet partitions (see Pipeline.punctuate: in the
 * partition's own time, recorded in its checkpoint). Nothing is written to the readings topic.
 */
export class IdleTicker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly counters = { punctuations: 0 };

  constructor(private readonly options: IdleTickerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.quietMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round; a round still running is not overlapped. */
  tick(): Promise<void> {
    this.running ??= this.options
      .punctuate(this.options.quietMs)
      .then(
        (n) => {
          this.counters.punctuations += n;
        },
        (err: unknown) => this.options.log.warn({ err }, 'punctuating quiet partitions failed'),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
