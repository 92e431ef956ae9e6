import { type GatewayStatusRecord, pinoLogCreator } from '@iot-stream/contracts';
import { type Consumer, Kafka, type KafkaConfig, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { groupTimings } from '../kafka-common/group-timings.ts';
import { parseStatus } from '../kafka-common/records.ts';

export interface StatusSourceOptions {
  brokers: readonly string[];
  /** TLS and SASL (contracts' kafkaSecurityOptions). */
  connection?: Pick<KafkaConfig, 'ssl' | 'sasl'>;
  clientId: string;
  /** The hubs share this group, so each status record is written once per group. */
  groupId: string;
  topic: string;
  /** The group's session timeout (kafka.sessionTimeoutMs); heartbeats every tenth of it. */
  sessionTimeoutMs?: number;
  log: Logger;
  write: (records: GatewayStatusRecord[]) => Promise<void>;
  onSkipped?: (n: number) => void;
}

/**
 * Consumes the gateways' status topic and writes each record to InfluxDB at the gateway's own
 * time (so rewriting it changes nothing); offsets are committed after the write.
 */
export class KafkaStatusSource {
  private readonly consumer: Consumer;

  constructor(private readonly options: StatusSourceOptions) {
    const timings = groupTimings(options.sessionTimeoutMs);
    this.consumer = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...options.connection,
      logLevel: KafkaLogLevel.WARN,
      logCreator: pinoLogCreator(options.log),
    }).consumer({
      groupId: options.groupId,
      maxWaitTimeInMs: 1000,
      sessionTimeout: timings.sessionTimeout,
      heartbeatInterval: timings.heartbeatInterval,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        commitOffsetsIfNecessary,
        heartbeat,
        isRunning,
      }) => {
        const records: GatewayStatusRecord[] = [];
        for (const m of batch.messages) {
          const r = parseStatus(m.value);
          if (r) records.push(r);
        }
        const skipped = batch.messages.length - records.length;
        if (skipped > 0) {
          this.options.onSkipped?.(skipped);
          this.options.log.warn({ skipped, partition: batch.partition }, 'status records skipped');
        }
        for (let attempt = 1; isRunning(); attempt += 1) {
          try {
            await this.options.write(records);
            resolveOffset(batch.lastOffset());
            await commitOffsetsIfNecessary();
            return;
          } catch (err) {
            this.options.log.warn({ err, attempt }, 'gateway status write failed; retrying');
            await new Promise((r) => setTimeout(r, Math.min(10_000, 200 * 2 ** attempt)));
            await heartbeat();
          }
        }
      },
    });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
