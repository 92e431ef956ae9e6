import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { IotError } from '@iot-stream/contracts';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { Code, Refusal } from '../../errors.ts';
import type { IngestCounters, Outbox, Source } from '../../ports.ts';
import type { ClockSettings } from '../device-clock.ts';
import { type IngestContext, ingestPublish, newIngestCounters, quarantine } from '../ingest.ts';
import type { Mappings } from '../mapping/rules.ts';
import type { DeviceAuthenticator } from './auth.ts';
import { describeConnection } from './evidence.ts';
import {
  AUTHENTICATED,
  CERTIFICATE_ID,
  EVIDENCE,
  type LimitedStream,
  type ListenerRefusal,
  REFUSED,
  type RefusalDetail,
  startListeners,
  type TlsListenerOptions,
} from './listeners.ts';
import {
  DEFAULT_UNAUTHENTICATED_LIMITS,
  type RefusalCounters,
  RefusalRecords,
  type UnauthenticatedLimits,
} from './refusals.ts';

export interface MqttSourceOptions {
  host: string;
  port: number;
  tls?: TlsListenerOptions | undefined;
  maxClients?: number;
  maxPacketBytes?: number;
  /** A connection must send its CONNECT within this; until then it holds no client slot. */
  connectTimeoutMs?: number;
  /** Connections waiting for their CONNECT, at most: in total, and from one address. */
  maxPending?: number;
  maxPendingPerAddress?: number;
  /** What peers that never authenticated can make the gateway store, per remote address. */
  unauthenticated?: UnauthenticatedLimits | undefined;
  auth?: DeviceAuthenticator | undefined;
  outbox: Outbox;
  log: Logger;
  now?: () => number;
  /** Called after a reading is committed (the forwarder uses it to wake up). */
  onStored?: () => void;
  /** What a device stamp may be (the `clock` settings). */
  clock?: ClockSettings | undefined;
  /** Devices' own topics and JSON (mqtt.mappings); the authenticator is given the same. */
  mappings?: Mappings | undefined;
}

export interface MqttSourceCounters extends IngestCounters, RefusalCounters {}

const DEVICE_ID = Symbol('deviceId');
type AuthedClient = Client & { [DEVICE_ID]?: string };

/**
 * The embedded MQTT broker (aedes). A data publish is committed to the outbox inside
 * `authorizePublish`, which aedes runs before it sends PUBACK (QoS 1) or PUBREC (QoS 2): a
 * device is acknowledged only for what is on disk. Undecodable payloads and publishes to
 * another device's topics are quarantined (kept, with the reason); a failed commit withholds
 * the acknowledgement and aedes closes the connection, so the device retries. Every refused
 * connection is counted once, under one reason; what is kept about it never includes its
 * credentials (see MqttEvidence).
 */
export class MqttSource implements Source {
  readonly name = 'mqtt';
  readonly counters: MqttSourceCounters = {
    ...newIngestCounters(),
    rejected: {},
    rateLimited: {},
  };
  private readonly ingest: IngestContext;
  private readonly records: RefusalRecords;
  private broker: Aedes | undefined;
  private servers: Server[] = [];
  private readonly now: () => number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly options: MqttSourceOptions) {
    this.now = options.now ?? Date.now;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.ingest = {
      outbox: options.outbox,
      counters: this.counters,
      log: options.log,
      now: this.now,
      onStored: options.onStored,
      clock: options.clock,
      mappings: options.mappings,
    };
    this.records = new RefusalRecords(
      this.ingest,
      this.counters,
      options.unauthenticated ?? DEFAULT_UNAUTHENTICATED_LIMITS,
    );
  }

  async start(): Promise<{ port: number; tlsPort?: number }> {
    const { auth, log } = this.options;
    const broker = await Aedes.createBroker({
      maxClientsIdLength: 64,
      drainTimeout: 30_000,
      // A backstop only: the listener closes a connection without a CONNECT before this.
      connectTimeout: this.connectTimeoutMs + 1000,
      authenticate: (client, username, password, done) =>
        this.authenticate(client, username, password, done),
      authorizeSubscribe: (client, subscription, done) => {
        if (!auth || auth.maySubscribe((client as AuthedClient)[DEVICE_ID], subscription.topic))
          return done(null, subscription);
        this.records.count(Refusal.SUBSCRIBE_DENIED);
        log.warn({ clientId: client.id, topic: subscription.topic }, 'subscription refused');
        done(notAuthorised());
      },
      authorizePublish: (client, packet, done) => this.onPublish(client, packet, done),
    });
    broker.on('keepaliveTimeout', (client) => {
      const conn = client.conn as LimitedStream;
      conn[REFUSED] = true; // the error that follows is this, already counted
      this.records.count(Refusal.KEEPALIVE_TIMEOUT);
    });
    const onError = (client: Client, err: Error) => this.onConnectionError(client, err);
    broker.on('clientError', onError);
    broker.on('connectionError', onError);
    this.broker = broker;
    const { servers, ports } = await startListeners({
      host: this.options.host,
      port: this.options.port,
      tls: this.options.tls,
      maxClients: this.options.maxClients ?? 1000,
      maxPacketBytes: this.options.maxPacketBytes ?? 65_536,
      connectTimeoutMs: this.connectTimeoutMs,
      maxPending: this.options.maxPending ?? 256,
      maxPendingPerAddress: this.options.maxPendingPerAddress ?? 32,
      handle: (stream: Duplex) => broker.handle(stream),
      onRejected: (reason, detail) => this.onListenerRefusal(reason, detail),
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

  /** Checks credentials off the event loop (see DeviceAuthenticator); counts a refusal once. */
  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const conn = client.conn as LimitedStream;
    const { auth } = this.options;
    const checked = auth
      ? auth.authenticate(client.id, username, password, conn[CERTIFICATE_ID], () => !client.closed)
      : Promise.resolve({ ok: true as const, deviceId: undefined });
    checked.then(
      (result) => {
        if (result.ok) {
          (client as AuthedClient)[DEVICE_ID] = result.deviceId;
          conn[AUTHENTICATED] = true;
          return done(null, true);
        }
        conn[REFUSED] = true; // aedes reports the refusal as a client error next: counted here
        if (!result.abandoned) {
          this.records.count(Refusal.AUTH_FAILED);
          this.keepRefusedConnect(conn, result.reason, 'MQTT authentication failed');
        }
        const error = new Error(result.reason) as AuthenticateError;
        error.returnCode = 4; // bad user name or password [MQTT-3.2.2-3]
        done(error, false);
      },
      (err: unknown) => {
        conn[REFUSED] = true;
        this.records.count(Refusal.AUTH_ERROR);
        this.options.log.error({ err, clientId: client.id }, 'MQTT authentication failed to run');
        const error = new Error('authentication unavailable') as AuthenticateError;
        error.returnCode = 3; // server unavailable
        done(error, false);
      },
    );
  }

  private onConnectionError(client: Client, err: Error): void {
    const conn = client.conn as LimitedStream;
    if (conn[REFUSED]) return; // counted (and kept) where it was refused
    conn[REFUSED] = true;
    // aedes refused the CONNECT itself (protocol version, client id, keep-alive) [MQTT-3.2.2].
    if (typeof (err as { errorCode?: unknown }).errorCode === 'number') {
      this.records.count(Refusal.CONNECT_REFUSED);
      this.keepRefusedConnect(conn, err.message, 'MQTT CONNECT refused');
      return;
    }
    // System errors (ECONNRESET...) carry a code; an error without one comes from the MQTT
    // parser or a client that broke the protocol.
    if (typeof (err as { code?: unknown }).code === 'string') {
      this.records.count(Refusal.CONNECTION_ERROR);
      return;
    }
    this.records.count(Refusal.PROTOCOL_ERROR);
    const remote = conn.remoteAddress ?? '?';
    const message = 'MQTT protocol error; connection closed';
    const raw = () =>
      describeConnection({ remote, reason: err.message, ...conn[EVIDENCE]?.parts() });
    const record = { code: Code.MQTT_PROTOCOL_ERROR, reason: err.message };
    if (conn[AUTHENTICATED])
      this.records.keepDevice(remote, { ...record, raw: raw() }, { clientId: client.id }, message);
    else this.records.keepUnauthenticated(remote, { ...record, raw }, {}, message);
  }

  /** A refused CONNECT is kept as a description: client id, username, version; no secrets. */
  private keepRefusedConnect(conn: LimitedStream, reason: string, message: string): void {
    const remote = conn.remoteAddress ?? '?';
    const parts = conn[EVIDENCE]?.parts();
    this.records.keepUnauthenticated(
      remote,
      {
        code: Code.MQTT_CONNECT_REFUSED,
        reason,
        raw: () => describeConnection({ remote, reason, connect: parts?.connect }),
      },
      { clientId: parts?.connect?.clientId, username: parts?.connect?.username },
      message,
    );
  }

  private onListenerRefusal(reason: ListenerRefusal, detail: RefusalDetail): void {
    this.records.count(reason);
    const { remote, stream } = detail;
    if (reason === Refusal.PACKET_TOO_LARGE) {
      const record = {
        code: Code.PACKET_TOO_LARGE,
        reason: `declared ${detail.declared} bytes`,
        raw: detail.prefix ?? Buffer.alloc(0),
      };
      const message = 'MQTT packet too large; connection closed';
      const fields = { declaredBytes: detail.declared };
      if (stream?.[AUTHENTICATED]) this.records.keepDevice(remote, record, fields, message);
      else
        this.records.keepUnauthenticated(
          remote,
          { ...record, raw: () => record.raw },
          fields,
          message,
        );
      return;
    }
    const parts = stream?.[EVIDENCE]?.parts();
    if (reason === Refusal.CONNECT_TIMEOUT && parts && parts.bytes.length > 0) {
      // Bytes that never made a CONNECT: kept (credentials left out, as ever).
      const why = `no CONNECT within ${this.connectTimeoutMs} ms`;
      this.records.keepUnauthenticated(
        remote,
        {
          code: Code.MQTT_PROTOCOL_ERROR,
          reason: why,
          raw: () => describeConnection({ remote, reason: why, ...parts }),
        },
        {},
        'MQTT connection closed: no CONNECT in time',
      );
      return;
    }
    // Nothing was sent that could be kept (or only a CONNECT, which never is).
    this.records.warnUnauthenticated(remote, { reason }, 'MQTT connection refused');
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
      this.records.count(Refusal.PUBLISH_DENIED);
      this.options.log.warn(
        { clientId: client.id, topic: packet.topic },
        'publish to a topic of another device refused',
      );
      const refuse = () => done(notAuthorised());
      quarantine(
        this.ingest,
        source,
        Code.UNAUTHORISED_TOPIC,
        `client ${client.id} may not publish to ${packet.topic}`,
        packet.payload,
      ).then(refuse, refuse);
      return;
    }
    ingestPublish(this.ingest, source, packet.topic, packet.payload, {
      packetId: packet.messageId,
      dup: packet.dup,
    }).then(
      () => done(null),
      (err: Error) => done(err),
    );
  }
}

function notAuthorised(): IotError {
  return new IotError(Code.NOT_AUTHORISED, 'not authorised');
}
