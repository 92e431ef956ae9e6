import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { backoffMs } from '@iot-stream/contracts';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import type { Logger } from 'pino';

export interface SubscriberOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM CA for mqtts:// */
  ca?: Buffer | undefined;
  topics: readonly string[];
  /** Seconds; a PINGREQ goes out when nothing was sent for half of it. */
  keepaliveS?: number;
  /** Unacknowledged messages held before the socket stops reading (backpressure). */
  maxPending?: number;
  log: Logger;
  /**
   * Takes one message; the returned promise resolves once the message may be acknowledged (it
   * is on disk) and rejects when it must not be (the connection is then dropped, so the broker
   * redelivers it and everything after it).
   */
  /** `delivery`: the packet identifier and DUP flag the broker sent it with. */
  onMessage(
    topic: string,
    payload: Buffer,
    delivery: { packetId?: number | undefined; dup: boolean },
  ): Promise<void>;
  onConnect?(sessionPresent: boolean): void;
  onClose?(): void;
  /** A new connection attempt after a lost or failed one. */
  onReconnect?(): void;
}

interface Pending {
  packet: IPublishPacket;
  settled: boolean;
}

const RECONNECT = { minMs: 500, maxMs: 30_000, random: Math.random };

/**
 * A minimal MQTT 3.1.1 subscriber for a persistent session (clean=false, QoS 1) that acknowledges
 * in batches. Every PUBLISH in a chunk read from the socket is handed over at once, so they share
 * one group commit of the outbox; their PUBACKs then go out together, in the order the messages
 * arrived (MQTT 3.1.1, 4.6), and only after the commit. mqtt.js hands over one message at a time
 * and sends its PUBACK before taking the next, so each message waited for its own commit.
 * The broker's in-flight window (Mosquitto: max_inflight_messages, default 20) bounds a batch.
 */
export class MqttSubscriber {
  private socket: Duplex | undefined;
  private readonly pending: Pending[] = [];
  private stopping = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private pingSentAt: number | undefined;
  private nextMessageId = 1;
  private connected = false;

  constructor(private readonly options: SubscriberOptions) {}

  start(): void {
    this.open();
  }

  /** Sends the acknowledgements that are due, then DISCONNECT; resolves when the socket closed. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && this.connected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    if (this.connected) this.send({ cmd: 'disconnect' });
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 1_000);
    await closed;
    clearTimeout(timer);
  }

  /** Drops the connection at once, acknowledging nothing more (a crash, as the broker sees it). */
  abort(): void {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
  }

  private open(): void {
    const url = new URL(this.options.url);
    const tls = url.protocol === 'mqtts:' || url.protocol === 'ssl:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (tls ? 8883 : 1883);
    const socket: Duplex = tls
      ? tlsConnect({
          host,
          port,
          servername: host,
          ...(this.options.ca ? { ca: this.options.ca } : {}),
        })
      : tcpConnect({ host, port });
    this.socket = socket;
    // No CONNACK in time (a host that swallows packets): try again.
    const connectTimer = setTimeout(() => {
      if (!this.connected) socket.destroy(new Error('no CONNACK within 10 s'));
    }, 10_000);
    socket.once('close', () => clearTimeout(connectTimer));
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => this.onPacket(packet));
    parser.on('error', (err: Error) => {
      this.options.log.warn({ err }, 'external MQTT broker sent a malformed packet');
      socket.destroy();
    });
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      this.send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId: this.options.clientId,
        keepalive: this.options.keepaliveS ?? 60,
        ...(this.options.username
          ? { username: this.options.username, password: Buffer.from(this.options.password ?? '') }
          : {}),
      });
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', (err) => this.options.log.warn({ err }, 'external MQTT broker error'));
    socket.on('close', () => this.onClose(socket));
  }

  private onPacket(packet: Packet): void {
    if (packet.cmd === 'connack') this.onConnack(packet.returnCode ?? 0, packet.sessionPresent);
    else if (packet.cmd === 'publish') this.onPublish(packet);
    else if (packet.cmd === 'pingresp') this.pingSentAt = undefined;
    // QoS 2, should the broker send it although we asked for QoS 1:
    else if (packet.cmd === 'pubrel') this.send({ cmd: 'pubcomp', messageId: packet.messageId });
    else if (
      packet.cmd === 'suback' &&
      packet.granted.some((g) => g === 128 || (g as { qos?: number }).qos === 128)
    )
      this.options.log.error(
        { topics: this.options.topics, granted: packet.granted },
        'external MQTT broker refused a subscription (check its ACL)',
      );
  }

  private onConnack(returnCode: number, sessionPresent: boolean): void {
    if (returnCode !== 0) {
      this.options.log.error(
        { url: this.options.url, returnCode, reason: CONNACK_REASONS[returnCode] ?? 'unknown' },
        'external MQTT broker refused the connection',
      );
      this.socket?.destroy();
      return;
    }
    this.connected = true;
    this.attempt = 0;
    // Always (re)subscribe: harmless when the session kept the subscriptions, needed when the
    // broker lost the session or the configured topics changed.
    this.send({
      cmd: 'subscribe',
      messageId: this.messageId(),
      subscriptions: this.options.topics.map((topic) => ({ topic, qos: 1 as const })),
    });
    const keepaliveMs = (this.options.keepaliveS ?? 60) * 1000;
    this.pingTimer = setInterval(() => this.ping(keepaliveMs), keepaliveMs / 4);
    this.pingTimer.unref();
    this.options.onConnect?.(sessionPresent);
  }

  private ping(keepaliveMs: number): void {
    const now = Date.now();
    if (this.pingSentAt !== undefined && now - this.pingSentAt > keepaliveMs) {
      this.options.log.warn({ url: this.options.url }, 'external MQTT broker stopped answering');
      this.socket?.destroy();
    } else if (this.pingSentAt === undefined && now - this.lastSentAt >= keepaliveMs / 2) {
      this.pingSentAt = now;
      this.send({ cmd: 'pingreq' });
    }
  }

  private onPublish(packet: IPublishPacket): void {
    const socket = this.socket;
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const entry: Pending = { packet, settled: false };
    if (packet.qos > 0) this.pending.push(entry);
    this.options
      .onMessage(packet.topic, payload, {
        packetId: packet.messageId,
        dup: packet.dup === true,
      })
      .then(
        () => {
          entry.settled = true;
          if (socket === this.socket) this.acknowledgeDue();
        },
        () => {
          // Not on disk: never acknowledge it; the broker redelivers it and what followed.
          if (socket === this.socket) socket?.destroy();
        },
      );
    if (this.pending.length >= (this.options.maxPending ?? 1000)) socket?.pause();
  }

  /** PUBACKs (PUBRECs) for the settled messages at the head, in arrival order, in one write. */
  private acknowledgeDue(): void {
    let due = 0;
    while (due < this.pending.length && this.pending[due]?.settled) due += 1;
    if (due === 0) return;
    const acks = this.pending.splice(0, due).map(({ packet }) =>
      mqttPacket.generate({
        cmd: packet.qos === 2 ? 'pubrec' : 'puback',
        messageId: packet.messageId as number,
      }),
    );
    this.write(Buffer.concat(acks));
    if (this.socket?.isPaused() && this.pending.length < (this.options.maxPending ?? 1000) / 2)
      this.socket.resume();
  }

  private onClose(socket: Duplex): void {
    if (socket !== this.socket) return;
    clearInterval(this.pingTimer);
    this.pingSentAt = undefined;
    // What was not acknowledged comes again on the next session (the outbox drops duplicates).
    this.pending.length = 0;
    const wasConnected = this.connected;
    this.connected = false;
    this.options.onClose?.();
    if (wasConnected && !this.stopping)
      this.options.log.warn({ url: this.options.url }, 'external MQTT broker connection lost');
    if (this.stopping) return;
    this.attempt += 1;
    this.reconnectTimer = setTimeout(
      () => {
        this.options.onReconnect?.();
        this.open();
      },
      backoffMs(this.attempt, RECONNECT),
    );
  }

  private send(packet: Packet): void {
    this.write(mqttPacket.generate(packet));
  }

  private write(bytes: Buffer): void {
    if (!this.socket || this.socket.destroyed) return;
    this.lastSentAt = Date.now();
    this.socket.write(bytes);
  }

  private messageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id >= 65_535 ? 1 : id + 1;
    return id;
  }
}

/** MQTT 3.1.1, 3.2.2.3. */
const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};
