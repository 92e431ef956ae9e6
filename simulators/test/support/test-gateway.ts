import { closeSync, openSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import {
  type DecodedFrame,
  FLAG_ACK_REQUEST,
  FrameDecoder,
  FrameSender,
  type RejectedFrame,
  SequenceTracker,
} from '@iot-stream/firmware-protocol';

export interface GatewayOptions {
  /** Acknowledge this frame? (default: every frame that asks) */
  accept?: (ev: DecodedFrame) => boolean;
  session?: number;
}

/**
 * A minimal gateway on the far end of a pty, written for the tests from the protocol package
 * alone: decodes every frame, answers hello with its own hello and acknowledges the frames it
 * accepts (cumulative + selective, from its own tracker), answers timeRequest.
 */
export class TestGateway {
  readonly frames: DecodedFrame[] = [];
  readonly rejected: RejectedFrame[] = [];
  readonly decoder = new FrameDecoder();
  private readonly sender: FrameSender;
  private tracker = new SequenceTracker();
  private session: number | undefined;
  private readonly fd: number;
  private readonly reader: tty.ReadStream;

  constructor(
    path: string,
    private readonly options: GatewayOptions = {},
  ) {
    this.sender = new FrameSender(options.session ?? 0x9a7e);
    this.fd = openSync(path, 'r+');
    this.reader = new tty.ReadStream(openSync(path, 'r+'));
    this.reader.setRawMode(true);
    this.reader.on('data', (chunk: Buffer) => this.onBytes(chunk));
  }

  data(): DecodedFrame[] {
    return this.frames.filter((f) => f.frame.type === 'data');
  }

  send(message: Parameters<FrameSender['send']>[0]): void {
    writeSync(this.fd, this.sender.send(message));
  }

  close(): void {
    this.reader.destroy();
    closeSync(this.fd);
  }

  private onBytes(chunk: Uint8Array): void {
    let ack = false;
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'rejected') {
        this.rejected.push(ev);
        continue;
      }
      this.frames.push(ev);
      const f = ev.frame;
      if (f.session !== this.session) {
        this.session = f.session;
        this.tracker = new SequenceTracker();
      }
      if (f.type === 'hello') {
        this.send({
          type: 'hello',
          body: { deviceId: 'gw-test', firmware: 'test', capabilities: 0 },
        });
      }
      if (f.type === 'timeRequest') {
        const now = Date.now();
        this.send({
          type: 'timeResponse',
          body: { uptime: f.body.uptime, received: now, sent: now },
        });
      }
      if ((f.flags & FLAG_ACK_REQUEST) !== 0 && (this.options.accept ?? (() => true))(ev)) {
        this.tracker.track(f.session, f.seq, {
          sessions: 0,
          gaps: 0,
          lost: 0,
          duplicates: 0,
          recovered: 0,
        });
        ack = true;
      }
    }
    const body = this.tracker.ack();
    if (ack && body) this.send({ type: 'ack', body });
  }
}
