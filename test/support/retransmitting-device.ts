import {
  CAPABILITIES,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  type Frame,
  FrameDecoder,
  FrameSender,
} from '@iot-stream/firmware-protocol';
import { SerialPort } from 'serialport';

type Message = Omit<Frame, 'version' | 'flags' | 'seq' | 'session'>;

export interface RetransmittingDeviceOptions {
  path: string;
  deviceId: string;
  session: number;
  /** Unacknowledged frames kept at most; sending pauses when full. */
  window: number;
  intervalMs: number;
  onAck: (seq: number) => void;
}

/**
 * A serial device as firmware following SPEC 6.3 behaves: every data frame requests an ack and
 * is kept until one covers it, retransmitted after 250 ms; it says hello (and describe) again
 * when a new gateway session greets it or asks for it. Only an ack counts as acknowledged.
 */
export class RetransmittingDevice {
  sent = 0;
  retransmitted = 0;
  private port: SerialPort | undefined;
  private readonly sender: FrameSender;
  private readonly decoder = new FrameDecoder({ maxFrame: 1024 });
  private readonly unacked = new Map<number, { message: Message; sentAt: number; data: boolean }>();
  private gatewaySession: number | undefined;
  private running = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: RetransmittingDeviceOptions) {
    this.sender = new FrameSender(options.session);
  }

  get pending(): number {
    return [...this.unacked.values()].filter((u) => u.data).length;
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (chunk: Buffer) => {
      for (const e of this.decoder.push(chunk)) if (e.kind === 'frame') this.onFrame(e.frame);
    });
    this.port = port;
    this.running = true;
    this.introduce();
    let value = 0;
    this.timers.push(
      setInterval(() => {
        if (!this.running || this.pending >= this.options.window) return;
        value += 1;
        this.send({ type: 'data', body: { time: Date.now(), readings: [[1, value]] } }, true);
      }, this.options.intervalMs),
      setInterval(() => this.retransmit(), 100),
    );
  }

  /** Stops producing; keeps retransmitting until everything is acknowledged (or the timeout). */
  async drain(timeoutMs: number): Promise<void> {
    this.running = false;
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Puts raw bytes on the line (noise, garbage) between frames. */
  noise(bytes: Uint8Array): void {
    this.write(bytes);
  }

  private introduce(): void {
    const capabilities = CAPABILITIES.retransmit;
    this.send(
      {
        type: 'hello',
        body: { deviceId: this.options.deviceId, firmware: 'test-1.0', capabilities },
      },
      false,
    );
    this.send(
      { type: 'describe', body: { sensors: [{ alias: 1, name: 'counter', unit: '1' }] } },
      false,
    );
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'hello' && frame.session !== this.gatewaySession) {
      const first = this.gatewaySession === undefined;
      this.gatewaySession = frame.session;
      if (!first) this.introduce(); // a restarted gateway: tell it who we are [FP-5.2]
    } else if (frame.type === 'error' && (frame.body.code === 9 || frame.body.code === 6)) {
      this.introduce();
    } else if (frame.type === 'ack' && frame.body.session === this.options.session) {
      const { cumulative, selective = 0 } = frame.body;
      for (const [seq, u] of this.unacked) {
        const behind = (cumulative - seq + 0x10000) % 0x10000;
        const bit = (seq - cumulative - 1 + 0x10000) % 0x10000;
        if (behind < 0x8000 || (bit < 32 && (selective & (1 << bit)) !== 0)) {
          this.unacked.delete(seq);
          if (u.data) this.options.onAck(seq);
        }
      }
    }
  }

  private send(message: Message, data: boolean): void {
    const seq = (this.sender as unknown as { nextSeq: number }).nextSeq;
    const wire = this.sender.send(message, FLAG_ACK_REQUEST);
    this.unacked.set(seq, { message, sentAt: Date.now(), data });
    if (data) this.sent += 1;
    this.write(wire);
  }

  private retransmit(): void {
    const now = Date.now();
    for (const [seq, u] of this.unacked) {
      if (now - u.sentAt < 250) continue;
      const again = new FrameSender(this.options.session);
      (again as unknown as { nextSeq: number }).nextSeq = seq;
      this.write(again.send(u.message, FLAG_ACK_REQUEST | FLAG_RETRANSMIT));
      u.sentAt = now;
      this.retransmitted += 1;
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.port?.isOpen) this.port.write(Buffer.from(bytes));
  }
}
