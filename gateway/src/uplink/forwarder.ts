import { type Backoff, backoffMs, sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { Outbox, Sink } from '../ports.ts';

export interface ForwarderOptions {
  outbox: Outbox;
  sink: Sink;
  log: Logger;
  batchSize: number;
  /** How long to wait for new rows when the outbox is empty. */
  idleMs?: number;
  backoff?: { minMs: number; maxMs: number };
  /** Jitter's random source (Math.random by default). */
  random?: () => number;
}

/** 200 ms, doubling up to 30 s, with jitter, between resends of a batch that failed. */
const RESEND_BACKOFF = { minMs: 200, maxMs: 30_000 };

export interface ForwarderCounters {
  forwarded: number;
  batches: number;
  failures: number;
}

/**
 * Moves rows from the outbox to the sink, oldest first, one batch in flight. A row is deleted
 * only after the sink acknowledged it; on failure the same rows are resent after a backoff
 * with jitter, so a timeout (an unknown outcome) can produce a duplicate but never a loss.
 * Duplicates carry the same (gatewayId, gatewaySeq) and are dropped downstream. It resends
 * whatever the error (never gives up on a row), so it uses contracts' backoff, not `retry()`.
 */
export class Forwarder {
  readonly counters: ForwarderCounters = { forwarded: 0, batches: 0, failures: 0 };
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private consecutiveFailures = 0;
  lastError: string | undefined;

  constructor(private readonly options: ForwarderOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Call when new rows were committed, to forward them without waiting for the idle poll. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { outbox, sink, log, batchSize } = this.options;
    while (this.running) {
      const rows = outbox.peek(batchSize);
      if (rows.length === 0) {
        await this.pause(this.options.idleMs ?? 500, true);
        continue;
      }
      try {
        await sink.send(rows);
        outbox.remove(rows.map((r) => r.id));
        this.counters.forwarded += rows.length;
        this.counters.batches += 1;
        if (this.consecutiveFailures > 0) log.info({ rows: rows.length }, 'uplink recovered');
        this.consecutiveFailures = 0;
        this.lastError = undefined;
      } catch (err) {
        this.counters.failures += 1;
        this.consecutiveFailures += 1;
        this.lastError = (err as Error).message;
        const delay = this.resendDelay();
        log.warn({ err, rows: rows.length, retryInMs: delay }, 'forwarding failed; will resend');
        await this.pause(delay, false);
      }
    }
  }

  private resendDelay(): number {
    const backoff: Backoff = {
      ...(this.options.backoff ?? RESEND_BACKOFF),
      random: this.options.random ?? Math.random,
    };
    return backoffMs(this.consecutiveFailures, backoff);
  }

  /** Idle pauses end early on `notify()`; backoff pauses only on `stop()`. */
  private async pause(ms: number, wakeOnNotify: boolean): Promise<void> {
    const wake = new AbortController();
    this.wake = wakeOnNotify ? () => wake.abort() : () => (this.running ? undefined : wake.abort());
    await sleep(ms, wake.signal);
    this.wake = undefined;
  }
}
