import { randomInt } from 'node:crypto';
import { backoffMs, sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { AckStore, IngestCounters, Outbox, Source, SourcePorts } from '../../ports.ts';
import type { ClockSettings } from '../device-clock.ts';
import { type IngestContext, newIngestCounters } from '../ingest.ts';
import { type GatewayIdentity, SerialSession, type SerialSessionState } from './session.ts';

export interface SerialSourceOptions {
  /** Prefer /dev/serial/by-id/... : stable across replugging and reboots. */
  path: string;
  baudRate: number;
  identity: GatewayIdentity;
  outbox: Outbox;
  /** Where the acknowledgements sent to each device session are kept (the outbox's file). */
  acks: AckStore;
  log: Logger;
  now?: () => number;
  onStored?: () => void;
  backoff?: { minMs: number; maxMs: number };
  /** What a device stamp may be (the `clock` settings). */
  clock?: ClockSettings | undefined;
}

/** Between attempts to open a missing port: 0.5 s, doubling up to 10 s (no jitter: one port, one gateway). */
const DEFAULT_BACKOFF = { minMs: 500, maxMs: 10_000 };

export type SerialCounters = IngestCounters & {
  state: 'opening' | 'open' | 'waiting' | 'stopped';
  opens: number;
  openFailures: number;
  lastError: string | null;
  device: SerialSessionState;
  frames: Record<string, unknown>;
};

/**
 * One serial port speaking the firmware protocol. A port that is missing at start-up or
 * unplugged later is retried with backoff; the outage is logged once (and when it ends) and
 * shown in health. The protocol itself is SerialSession's business.
 */
export class SerialSource implements Source {
  readonly counters: SerialCounters;
  private port: SerialPort | undefined;
  private running = false;
  /** Aborted by stop(): ends the wait before the next attempt to open the port. */
  private stopping = new AbortController();
  private failuresInARow = 0;
  private readonly ingest: IngestContext;

  constructor(private readonly options: SerialSourceOptions) {
    this.counters = {
      ...newIngestCounters(),
      state: 'opening',
      opens: 0,
      openFailures: 0,
      lastError: null,
      device: { deviceId: null, session: null, firmware: null, sensors: 0 },
      frames: {},
    };
    this.ingest = {
      outbox: options.outbox,
      counters: this.counters,
      log: options.log,
      now: options.now ?? Date.now,
      onStored: options.onStored,
      clock: options.clock,
    };
  }

  get name(): string {
    return `serial:${this.options.path}`;
  }

  /** Resolves at once: a port that is missing is retried in the background. */
  async start(): Promise<SourcePorts> {
    this.running = true;
    this.stopping = new AbortController();
    this.open();
    return {};
  }

  async stop(): Promise<void> {
    this.running = false;
    this.counters.state = 'stopped';
    this.stopping.abort();
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private open(): void {
    if (!this.running) return;
    this.counters.state = 'opening';
    const port = new SerialPort({
      path: this.options.path,
      baudRate: this.options.baudRate,
      autoOpen: false,
    });
    this.port = port;
    port.open((err) => {
      if (err) {
        this.retry(err);
        return;
      }
      if (this.failuresInARow > 0) {
        this.options.log.info(
          { path: this.options.path, after: this.failuresInARow },
          'serial port available again',
        );
      }
      this.failuresInARow = 0;
      this.counters.state = 'open';
      this.counters.opens += 1;
      this.counters.lastError = null;
      this.options.log.info(
        { path: this.options.path, baudRate: this.options.baudRate },
        'serial port open',
      );
      // A fresh session object per open: the device may have rebooted while unplugged.
      const session = new SerialSession({
        source: this.name,
        identity: this.options.identity,
        session: randomInt(0, 0xffff_ffff),
        ingest: this.ingest,
        acks: this.options.acks,
        write: (bytes) => {
          if (port.isOpen) port.write(Buffer.from(bytes));
        },
        log: this.options.log,
      });
      this.counters.device = session.state;
      this.counters.frames = session.decoder.counters as unknown as Record<string, unknown>;
      port.on('data', (chunk: Buffer) => session.onBytes(chunk));
      port.on('error', (e) => {
        this.counters.lastError = e.message;
      });
      port.once('close', (e?: Error | null) => {
        session.onClose();
        this.retry(e ?? new Error('port closed'));
      });
    });
  }

  private retry(err: Error): void {
    if (!this.running) return;
    this.counters.state = 'waiting';
    this.counters.openFailures += 1;
    this.counters.lastError = err.message;
    this.failuresInARow += 1;
    const delay = backoffMs(this.failuresInARow, this.options.backoff ?? DEFAULT_BACKOFF);
    if (this.failuresInARow === 1) {
      this.options.log.warn(
        { path: this.options.path, err: err.message, retryInMs: delay },
        'serial port unavailable; retrying',
      );
    }
    void sleep(delay, this.stopping.signal).then((waited) => {
      if (waited) this.open();
    });
  }
}
