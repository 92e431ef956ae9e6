import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { deviceOfDataTopic, parseJsonReading } from './json-reading.ts';
import type { Outbox } from './ports.ts';

export interface MqttSourceOptions {
  host: string;
  port: number;
  outbox: Outbox;
  log: Logger;
  now?: () => number;
  /** Called after a reading is committed (the forwarder uses it to wake up). */
  onStored?: () => void;
}

export interface MqttSourceCounters {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  failed: number;
}

/**
 * The embedded MQTT broker (aedes). A data publish is committed to the outbox inside
 * `authorizePublish`, which aedes runs before it sends PUBACK (QoS 1) or PUBREC (QoS 2): a
 * device is acknowledged only for what is on disk. Undecodable payloads are quarantined
 * (kept, with the reason) and then acknowledged; a failed commit withholds the
 * acknowledgement, and aedes closes the connection so the device retries.
 */
export class MqttSource {
  readonly counters: MqttSourceCounters = {
    received: 0,
    stored: 0,
    duplicates: 0,
    quarantined: 0,
    failed: 0,
  };
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MqttSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<{ port: number }> {
    const broker = await Aedes.createBroker({
      maxClientsIdLength: 64,
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
    });
    this.broker = broker;
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.options.port;
    this.options.log.info({ host: this.options.host, port }, 'MQTT broker listening');
    return { port };
  }

  async stop(): Promise<void> {
    const { server, broker } = this;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  private onPublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const deviceId = deviceOfDataTopic(packet.topic);
    if (client === null || deviceId === undefined) {
      done(null);
      return;
    }
    this.counters.received += 1;
    const receivedAt = this.now();
    const parsed = parseJsonReading(deviceId, packet.payload, receivedAt);
    const write = parsed.ok
      ? this.options.outbox
          .append({
            ...parsed.reading,
            digest: createHash('sha1').update(packet.payload).digest('base64url'),
          })
          .then((outcome) => {
            if (outcome === 'stored') {
              this.counters.stored += 1;
              this.options.onStored?.();
            } else this.counters.duplicates += 1;
          })
      : this.options.outbox
          .quarantine({
            source: `mqtt:${client.id}:${packet.topic}`,
            code: parsed.code,
            reason: parsed.reason,
            raw: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
            receivedAt,
          })
          .then(() => {
            this.counters.quarantined += 1;
            this.options.log.warn(
              {
                clientId: client.id,
                topic: packet.topic,
                code: parsed.code,
                reason: parsed.reason,
              },
              'payload quarantined',
            );
          });
    write.then(
      () => done(null),
      (err: Error) => {
        this.counters.failed += 1;
        this.options.log.error({ err, clientId: client.id }, 'commit failed; not acknowledging');
        done(err);
      },
    );
  }
}
