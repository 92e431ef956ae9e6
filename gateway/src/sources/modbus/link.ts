import { type Backoff, backoffMs, retry, sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { ModbusBusCounters } from '../../ports.ts';
import { classifyModbusError, ModbusError, type ModbusTransport } from './client.ts';
import type { ReadResult } from './decode.ts';
import type { ReadRequest } from './plan.ts';

export interface ModbusLinkOptions {
  /** A fresh transport per connection attempt (modbus-serial's client is not reopened). */
  transport: () => ModbusTransport;
  retries: number;
  retryBackoff: Backoff;
  reconnectBackoff: Backoff;
  log: Logger;
  now?: () => number;
}

export const newBusCounters = (): ModbusBusCounters => ({
  connected: false,
  connects: 0,
  connectFailures: 0,
  lastError: null,
  requests: 0,
  busyMs: 0,
  devices: {},
});

/**
 * One bus: a serial line or a TCP connection. Reads go out one at a time (an RTU line is
 * half-duplex and its frames carry no transaction id; on TCP one request per connection keeps
 * it simple and gentle on small devices). A read that times out or comes back corrupt is tried
 * again after a backoff, the bus free meanwhile for other devices. A link that drops (adapter
 * unplugged, TCP closed) or cannot be opened is reopened with backoff, without a restart.
 */
export class ModbusLink {
  readonly counters = newBusCounters();
  private transport: ModbusTransport | undefined;
  private running = false;
  private stopping = new AbortController();
  private failuresInARow = 0;
  /** The end of the queue: each read waits for the one before it. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: ModbusLinkOptions) {
    this.now = options.now ?? Date.now;
  }

  get connected(): boolean {
    return this.counters.connected;
  }

  /** Opens the link in the background; resolves at once. */
  start(): void {
    this.running = true;
    this.stopping = new AbortController();
    void this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.counters.connected = false;
    await this.tail.catch(() => undefined);
    await this.transport?.close();
  }

  /**
   * Reads one request from `unitId`, in turn with every other read on the bus, retried as the
   * bus is configured. `onRetry` is told of each failed try that is tried again. Rejects with
   * a ModbusError.
   */
  read(
    unitId: number,
    request: Omit<ReadRequest, 'registers'>,
    onRetry: (err: ModbusError) => void,
  ): Promise<ReadResult> {
    return retry(() => this.once(unitId, request), {
      ...this.options.retryBackoff,
      attempts: this.options.retries + 1,
      signal: this.stopping.signal,
      onRetry: (err) => onRetry(classifyModbusError(err)),
    }).catch((err) => {
      throw classifyModbusError(err);
    });
  }

  private once(unitId: number, request: Omit<ReadRequest, 'registers'>): Promise<ReadResult> {
    const run = async () => {
      const transport = this.transport;
      if (!this.counters.connected || transport === undefined)
        throw new ModbusError('disconnected', 'the bus is not open');
      this.counters.requests += 1;
      const started = this.now();
      try {
        return await transport.read(unitId, request);
      } finally {
        this.counters.busyMs += this.now() - started;
      }
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async open(): Promise<void> {
    while (this.running) {
      const transport = this.options.transport();
      try {
        await transport.open();
      } catch (err) {
        await transport.close().catch(() => undefined);
        if (!(await this.waitToRetry((err as Error).message))) return;
        continue;
      }
      if (!this.running) return void (await transport.close());
      if (this.failuresInARow > 0)
        this.options.log.info({ after: this.failuresInARow }, 'modbus bus available again');
      this.failuresInARow = 0;
      this.transport = transport;
      this.counters.connected = true;
      this.counters.connects += 1;
      this.counters.lastError = null;
      this.options.log.info('modbus bus open');
      const dropped = new Promise<string>((resolve) => transport.onClose(resolve));
      const reason = await Promise.race([dropped, this.aborted()]);
      this.counters.connected = false;
      if (!this.running) return;
      this.options.log.warn({ reason }, 'modbus bus closed; reopening');
      await transport.close().catch(() => undefined);
      if (!(await this.waitToRetry(reason))) return;
    }
  }

  /** Counts a failed open (or a drop) and waits the backoff; false when stopped meanwhile. */
  private async waitToRetry(reason: string): Promise<boolean> {
    this.counters.connectFailures += 1;
    this.counters.lastError = reason;
    this.failuresInARow += 1;
    const delay = backoffMs(this.failuresInARow, this.options.reconnectBackoff);
    if (this.failuresInARow === 1)
      this.options.log.warn({ err: reason, retryInMs: delay }, 'modbus bus unavailable; retrying');
    return sleep(delay, this.stopping.signal);
  }

  private aborted(): Promise<string> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve('stopped');
      signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
  }
}
