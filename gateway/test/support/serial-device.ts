import {
  type AckBody,
  type DecoderEvent,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  type Frame,
  FrameDecoder,
  FrameSender,
} from '@iot-stream/firmware-protocol';
import { SerialPort } from 'serialport';

export type DeviceMessage = Omit<Frame, 'version' | 'flags' | 'seq' | 'session'>;

/** A test device on the far end of a pty: sends frames, records what the gateway answers. */
export class SerialDevice {
  readonly received: Array<Extract<DecoderEvent, { kind: 'frame' }>['frame']> = [];
  private sender: FrameSender;
  private readonly decoder = new FrameDecoder({ maxFrame: 1024 });
  private port: SerialPort | undefined;
  private readonly sent = new Map<number, DeviceMessage>();
  seq = 0;

  constructor(
    private readonly path: string,
    public session: number,
  ) {
    this.sender = new FrameSender(session);
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (chunk: Buffer) => {
      for (const e of this.decoder.push(chunk)) if (e.kind === 'frame') this.received.push(e.frame);
    });
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** A reboot: new session, sequence numbers from 0. */
  reboot(session: number): void {
    this.session = session;
    this.sender = new FrameSender(session);
    this.seq = 0;
    this.sent.clear();
  }

  async raw(bytes: Uint8Array | number[]): Promise<void> {
    const port = this.port as SerialPort;
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.from(bytes), (e) => (e ? reject(e) : resolve())),
    );
    await new Promise<void>((resolve) => port.drain(() => resolve()));
  }

  /** Encodes the next frame of the session (with ACK_REQUEST) without sending it. */
  next(message: DeviceMessage): { seq: number; wire: Uint8Array } {
    const seq = this.seq;
    const wire = this.sender.send(message, FLAG_ACK_REQUEST);
    this.sent.set(seq, message);
    this.seq = (this.seq + 1) & 0xffff;
    return { seq, wire };
  }

  /** Sends the next frame of the session; returns its seq and wire bytes. */
  async send(message: DeviceMessage): Promise<{ seq: number; wire: Uint8Array }> {
    const next = this.next(message);
    await this.raw(next.wire);
    return next;
  }

  /** Sends an earlier frame again, as a retransmission. */
  async retransmit(seq: number): Promise<void> {
    const message = this.sent.get(seq);
    if (!message) throw new Error(`no frame ${seq} to retransmit`);
    const again = new FrameSender(this.session);
    (again as unknown as { nextSeq: number }).nextSeq = seq;
    await this.raw(again.send(message, FLAG_ACK_REQUEST | FLAG_RETRANSMIT));
  }

  acks(): AckBody[] {
    return this.received.filter((f) => f.type === 'ack').map((f) => f.body as AckBody);
  }

  /** True when some ack of the current session covers `seq` (cumulatively or selectively). */
  acked(seq: number): boolean {
    return this.acks().some((a) => {
      if (a.session !== this.session) return false;
      if (((a.cumulative - seq) & 0xffff) < 0x8000) return true;
      const bit = (seq - a.cumulative - 1) & 0xffff;
      return bit < 32 && ((a.selective ?? 0) & (1 << bit)) !== 0;
    });
  }
}
