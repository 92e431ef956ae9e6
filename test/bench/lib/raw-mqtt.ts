import { type Socket, connect as tcpConnect } from 'node:net';

const EMPTY = Buffer.alloc(0);

/** What a benchmark device needs from an MQTT client: QoS 1 publish, then end. */
export interface PublishClient {
  /** `done` runs when the PUBACK arrives, or with an error when the connection is lost. */
  publish(topic: string, payload: string, done: (err?: Error) => void): void;
  end(): Promise<void>;
}

/**
 * A minimal MQTT 3.1.1 publisher (CONNECT, PUBLISH at QoS 1, PUBACK, DISCONNECT; clean
 * session, no keep-alive), like a device's firmware client. It costs a fraction of mqtt.js's
 * CPU per message, so the load generator is not what limits the benchmark on a 2-core box.
 * It does not reconnect: a lost connection fails the outstanding publishes.
 */
export class RawMqttClient implements PublishClient {
  private readonly pending = new Map<number, (err?: Error) => void>();
  private nextId = 1;
  private buffered: Buffer = EMPTY;
  private corked = false;
  private onConnack: ((returnCode: number) => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static connect(url: string, clientId: string): Promise<RawMqttClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(Number(port || 1883), hostname);
      const client = new RawMqttClient(socket);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed before CONNACK')));
      client.onConnack = (returnCode) => {
        socket.off('error', reject);
        socket.on('error', () => undefined); // 'close' follows and fails what is pending
        if (returnCode === 0) resolve(client);
        else {
          socket.destroy();
          reject(new Error(`CONNECT refused with return code ${returnCode}`));
        }
      };
      socket.once('connect', () => {
        const id = Buffer.from(clientId);
        const body = Buffer.concat([
          Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]), // "MQTT", v4, clean, ka 0
          u16(id.length),
          id,
        ]);
        socket.write(Buffer.concat([Buffer.from([0x10]), varint(body.length), body]));
      });
    });
  }

  publish(topic: string, payload: string, done: (err?: Error) => void): void {
    let id = this.nextId;
    while (this.pending.has(id)) id = (id % 0xffff) + 1;
    this.nextId = (id % 0xffff) + 1;
    this.pending.set(id, done);
    const t = Buffer.byteLength(topic);
    const p = Buffer.byteLength(payload);
    const remaining = 2 + t + 2 + p;
    const header = varint(remaining);
    const packet = Buffer.allocUnsafe(1 + header.length + remaining);
    packet[0] = 0x32; // PUBLISH, QoS 1
    header.copy(packet, 1);
    let at = 1 + header.length;
    at = packet.writeUInt16BE(t, at);
    at += packet.write(topic, at);
    at = packet.writeUInt16BE(id, at);
    packet.write(payload, at);
    // Writes issued in one tick leave in one syscall.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(packet);
  }

  async end(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end(Buffer.from([0xe0, 0]));
    });
  }

  private onData(chunk: Buffer): void {
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    // A publisher receives CONNACK (0x20 0x02 flags code) and PUBACKs (0x40 0x02 id id);
    // anything else is skipped by its length.
    while (data.length >= 2) {
      let length = 0;
      let shift = 0;
      let i = 1;
      for (; i < data.length && i < 5; i += 1) {
        const b = data[i] as number;
        length += (b & 0x7f) << shift;
        shift += 7;
        if ((b & 0x80) === 0) break;
      }
      const end = i + 1 + length;
      if (i >= data.length || end > data.length) break;
      if (data[0] === 0x40) {
        const id = data.readUInt16BE(i + 1);
        const done = this.pending.get(id);
        this.pending.delete(id);
        done?.();
      } else if (data[0] === 0x20) {
        this.onConnack?.(data[i + 2] ?? 0xff);
        this.onConnack = undefined;
      }
      data = data.subarray(end);
    }
    this.buffered = data.length > 0 ? Buffer.from(data) : EMPTY;
  }

  private failAll(err: Error): void {
    const callbacks = [...this.pending.values()];
    this.pending.clear();
    for (const done of callbacks) done(err);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let rest = n;
  do {
    let b = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) b |= 0x80;
    bytes.push(b);
  } while (rest > 0);
  return Buffer.from(bytes);
}
