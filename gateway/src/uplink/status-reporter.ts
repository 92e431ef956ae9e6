import type { GatewayStatusRecord as ContractStatusRecord } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import { type GatewaySnapshot, type PublishedSnapshot, published } from '../ops/snapshot.ts';
import { GATEWAY_VERSION } from '../version.ts';

export interface StatusReporterOptions {
  intervalMs: number;
  snapshot: () => GatewaySnapshot;
  /** Sends one status record; rejects when the uplink did not take it. */
  send: (record: GatewayStatusRecord) => Promise<void>;
  log: Logger;
}

/**
 * What the hub learns about a gateway, every `intervalMs`, keyed by gateway id: the snapshot,
 * which carries more than the contract (contracts' GatewayStatusRecordSchema) checks. The hub
 * reads the uplink's state as `kafka.connected` (see `published`), also from an HTTP uplink.
 */
export type GatewayStatusRecord = PublishedSnapshot &
  ContractStatusRecord & { v: 1; kind: 'gateway-status'; version: string };

/** Publishes the gateway's snapshot periodically. A failed send is logged and skipped. */
export class StatusReporter {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(private readonly options: StatusReporterOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async report(): Promise<void> {
    const record: GatewayStatusRecord = {
      v: 1,
      kind: 'gateway-status',
      version: GATEWAY_VERSION,
      ...published(this.options.snapshot()),
    };
    try {
      await this.options.send(record);
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) {
        this.options.log.warn({ err, failures: this.failures }, 'gateway status record not sent');
      }
    }
  }
}
