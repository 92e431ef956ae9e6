import { type Backoff, backoffMs, sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { Uplink } from './select.ts';

/** 1 s, doubling up to 30 s, between attempts to connect the uplink. */
const CONNECT_BACKOFF: Backoff = { minMs: 1000, maxMs: 30_000 };

export interface UplinkConnectionOptions {
  uplink: Uplink;
  log: Logger;
  /** Called once, when the uplink connected (the forwarder starts then). */
  onConnected: () => void;
  backoff?: Backoff;
}

/**
 * Connects the uplink in the background, for as long as it takes: readings keep being
 * accepted meanwhile and wait in the outbox. Every error is tried again, also those kafkajs
 * marks not retriable (its "retries exceeded" while Kafka is down), which is why this is not
 * contracts' `retry()`: that gives up on them. Logged on the first and every tenth attempt.
 */
export class UplinkConnection {
  connected = false;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: UplinkConnectionOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops trying: the wait before the next attempt ends at once. */
  abort(): void {
    this.stopping.abort();
  }

  /**
   * Resolves once the attempt in progress ended (it is bounded by kafkajs's own retries), or
   * after `graceMs`, whichever comes first. Call `abort()` first.
   */
  async stopped(graceMs = 2000): Promise<void> {
    await Promise.race([this.loop, sleep(graceMs)]);
  }

  private async run(): Promise<void> {
    const { uplink, log } = this.options;
    for (let attempt = 1; !this.stopping.signal.aborted; attempt += 1) {
      try {
        await uplink.sink.connect();
        this.connected = true;
        log.info(uplink.where, `${uplink.name} connected`);
        this.options.onConnected();
        return;
      } catch (err) {
        const delay = backoffMs(attempt, this.options.backoff ?? CONNECT_BACKOFF);
        if (attempt === 1 || attempt % 10 === 0) {
          log.warn(
            { err, attempt, retryInMs: delay, ...uplink.where },
            `${uplink.name} unreachable; buffering`,
          );
        }
        await sleep(delay, this.stopping.signal);
      }
    }
  }
}
