import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { IotError } from '@iot-stream/contracts';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { ClockSettings } from './device-clock.ts';
import {
  type IngestContext,
  type IngestCounters,
  ingestPublish,
  newIngestCounters,
  quarantine,
} from './ingest.ts';
import type { DeviceAuthenticator } from './mqtt-auth.ts';
import {
  CERTIFICATE_ID,
  type LimitedStream,
  RAW_PREFIX,
  startListeners,
  type TlsListenerOptions,
} from './mqtt-listeners.ts';
import type { Outbox } from './ports.ts';

export interface MqttSourceOptions {
  host: string;
  port: number;
  tls?: TlsListenerOptions | undefined;
  maxClients?: number;
  maxPacketBytes?: number;
  auth?: DeviceAuthenticator | undefined;
  outbox: Outbox;
  log: Logger;
  now?: () => number;
  /** Called after a reading is committed (the forwarder uses it to wake up). */
  onStored?: () => void;
  /** What a device stamp may be (the `clock` settings). */
  clock?: ClockSettings | undefined;
}

export interface MqttSourceCounters extends IngestCounters {
  /** Connections and publishes refused, by reason. */
  rejected: Record<string, number>;
}

const DEVICE_ID = Symbol('deviceId');
type AuthedClient = Client & { [DEVICE_ID]?: string };

/**
 * The embedded MQTT broker (aedes). A data publish is committed to the outbox inside
 * `authorizePublish`, which aedes runs before it sends PUBACK (QoS 1) or PUBREC (QoS 2): a
 * device is acknowledged only for what is on disk. Undecodable payloads and publishes to
 * another device's topics are quarantined (kept, with the reason); a failed commit withholds
 * the acknowledgement and aedes closes the connection, so the device retries.
 */
export class MqttSource {
  readonly counters: MqttSourceCounters = { ...newIngestCounters(), rejected: {} };
  private readonly ingest: IngestContext;
  private broker: Aedes | undefined;
  private servers: Server[] = [];
  private readonly now: () => number;

  constructor(private readonly options: MqttSourceOptions) {
    this.now = options.now ?? Date.now;
    this.ingest = {
      outbox: options.outbox,
      counters: this.counters,
      log: options.log,
      now: this.now,
      onStored: options.onStored,
      clock: options.clock,
    };
  }

  async start(): Promise<{ port: number; tlsPort?: number }> {
    const { auth, log } = this.options;
    const broker = await Aedes.createBroker({
      maxClientsIdLength: 64,
      drainTimeout: 30_000,
      authenticate: (client, username, password, done) => {
        const certificateId = (client.conn as LimitedStream)[CERTIFICATE_ID];
        const result = auth
          ? auth.authenticate(client.id, username, password, certificateId)
          : { ok: true as const, deviceId: undefined };
        if (result.ok) {
          (client as AuthedClient)[DEVICE_ID] = result.deviceId;
          return done(null, true);
        }
        this.reject('auth-failed');
        log.warn(
          { clientId: client.id, username, reason: result.reason },
          'MQTT authentication failed',
        );
        const error = new Error(result.reason) as AuthenticateError;
        error.returnCode = 4; // bad user name or password
        done(error, false);
      },
      authorizeSubscribe: (client, subscription, done) => {
        if (!auth || auth.maySubscribe((client as AuthedClient)[DEVICE_ID], subscription.topic))
          return done(null, subscription);
        this.reject('subscribe-denied');
        log.warn({ clientId: client.id, topic: subscription.topic }, 'subscription refused');
        done(notAuthorised());
      },
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
    });
    const onProtocolError = (client: Client, err: Error & { code?: unknown }) => {
      // System errors (ECONNRESET...) and the gateway's own refusals carry a code; an error
      // without one comes from the MQTT parser or a client that never sent CONNECT.
      if (typeof err.code === 'string') {
        this.reject('connection-error');
        return;
      }
      this.reject('protocol-error');
      const conn = client.conn as LimitedStream;
      log.warn(
        { clientId: client.id, remote: conn.remoteAddress, reason: err.message },
        'MQTT protocol error; connection closed',
      );
      void quarantine(
        this.ingest,
        `mqtt:${conn.remoteAddress ?? '?'}`,
        'MQTT_PROTOCOL_ERROR',
        err.message,
        conn[RAW_PREFIX] ?? Buffer.alloc(0),
      ).catch(() => undefined); // the outbox logs and counts a failed write
    };
    broker.on('clientError', onProtocolError);
    broker.on('connectionError', onProtocolError);
    this.broker = broker;
    const { servers, ports } = await startListeners({
      host: this.options.host,
      port: this.options.port,
      tls: this.options.tls,
      maxClients: this.options.maxClients ?? 1000,
      maxPacketBytes: this.options.maxPacketBytes ?? 65_536,
      handle: (stream: Duplex) => broker.handle(stream),
      onRejected: (reason, detail) => {
        this.reject(reason);
        log.warn(
          { reason, remote: detail.remote, declaredBytes: detail.declared },
          'MQTT connection refused',
        );
        if (detail.prefix) {
          void quarantine(
            this.ingest,
            `mqtt:${detail.remote ?? '?'}`,
            'PACKET_TOO_LARGE',
            `declared ${detail.declared} bytes`,
            detail.prefix,
          ).catch(() => undefined);
        }
      },
    });
    this.servers = servers;
    log.info(
      { host: this.options.host, port: ports[0], tlsPort: ports[1] },
      'MQTT broker listening',
    );
    if (!auth || auth.mode === 'none')
      log.warn('MQTT authentication is off: any client may publish as any device');
    return { port: ports[0] as number, ...(ports[1] === undefined ? {} : { tlsPort: ports[1] }) };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    const { broker } = this;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }

  private reject(reason: string): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
  }

  private onPublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    if (client === null) {
      done(null);
      return;
    }
    const source = `mqtt:${client.id}:${packet.topic}`;
    const deviceId = (client as AuthedClient)[DEVICE_ID];
    if (this.options.auth && !this.options.auth.mayPublish(deviceId, packet.topic)) {
      this.reject('publish-denied');
      this.options.log.warn(
        { clientId: client.id, topic: packet.topic },
        'publish to a topic of another device refused',
      );
      const refuse = () => done(notAuthorised());
      quarantine(
        this.ingest,
        source,
        'UNAUTHORISED_TOPIC',
        `client ${client.id} may not publish to ${packet.topic}`,
        packet.payload,
      ).then(refuse, refuse);
      return;
    }
    ingestPublish(this.ingest, source, packet.topic, packet.payload).then(
      () => done(null),
      (err: Error) => done(err),
    );
  }
}

function notAuthorised(): IotError {
  return new IotError('NOT_AUTHORISED', 'not authorised');
}
