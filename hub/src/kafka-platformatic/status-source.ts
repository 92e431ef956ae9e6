import type { GatewayStatusRecord } from '@iot-stream/contracts';
import { retry } from '@iot-stream/contracts';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { groupTimings } from '../kafka-common/group-timings.ts';
import { parseStatus } from '../kafka-common/records.ts';
import { consumeCommitted, type PlatformaticConnection } from './connection.ts';

export interface PlatformaticStatusSourceOptions {
  connection: PlatformaticConnection;
  /** The hubs share this group, so each status record is written once per group. */
  groupId: string;
  topic: string;
  /** The group's session timeout (kafka.sessionTimeoutMs); heartbeats every tenth of it. */
  sessionTimeoutMs?: number;
  log: Logger;
  write: (records: GatewayStatusRecord[]) => Promise<void>;
  onSkipped?: (n: number) => void;
}

type Fetched = Message<Buffer, Buffer, Buffer, Buffer>;

/**
 * The gateways' status topic through @platformatic/kafka, as KafkaStatusSource: each record
 * written to InfluxDB at the gateway's own time (rewriting it changes nothing), offsets
 * committed after the write, a failed write retried until it succeeds or the hub stops.
 */
export class PlatformaticStatusSource {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private pending: Fetched[] = [];
  private writing = false;
  private readonly stopped = new AbortController();

  constructor(private readonly options: PlatformaticStatusSourceOptions) {
    this.consumer = new Consumer({
      ...options.connection,
      groupId: options.groupId,
      autocommit: false,
      maxWaitTime: 1000,
      ...groupTimings(options.sessionTimeoutMs),
    });
  }

  async start(): Promise<void> {
    const stream = await consumeCommitted(this.consumer, this.options.topic);
    this.stream = stream;
    stream.on('data', (m) => {
      this.pending.push(m);
      if (this.pending.length >= 5000) stream.pause();
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.writeAll());
      }
    });
    stream.on('error', (err) => this.options.log.error({ err }, 'status consumer stream failed'));
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close();
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.stopped.signal.aborted) {
        const batch = this.pending;
        this.pending = [];
        if (this.stream?.isPaused()) this.stream.resume();
        const records = batch
          .map((m) => parseStatus(m.value ?? null))
          .filter((r) => r !== undefined);
        const skipped = batch.length - records.length;
        if (skipped > 0) {
          this.options.onSkipped?.(skipped);
          this.options.log.warn({ skipped }, 'status records skipped');
        }
        await retry(() => this.options.write(records), {
          minMs: 200,
          maxMs: 10_000,
          signal: this.stopped.signal,
          onRetry: (err, attempt) =>
            this.options.log.warn({ err, attempt }, 'gateway status write failed; retrying'),
        });
        const next = new Map<number, bigint>();
        for (const m of batch)
          if ((next.get(m.partition) ?? -1n) < m.offset + 1n) next.set(m.partition, m.offset + 1n);
        await this.consumer
          .commit({
            offsets: [...next].map(([partition, offset]) => ({
              topic: this.options.topic,
              partition,
              offset,
              leaderEpoch: -1,
            })),
          })
          .catch((err: unknown) => this.options.log.warn({ err }, 'status offset commit failed'));
      }
    } catch (err) {
      if (!this.stopped.signal.aborted)
        this.options.log.error({ err }, 'gateway status not written');
    } finally {
      this.writing = false;
    }
  }
}
