import { Transform, type TransformCallback } from 'node:stream';
import { IotError } from '@iot-stream/contracts';
import { Code } from '../../errors.ts';
import { MqttEvidence } from './evidence.ts';
import { FrameWalker, PACKET_AUTH, PACKET_CONNECT } from './frames.ts';

/** Bytes of an oversized packet kept to show what it was. */
const PREFIX_BYTES = 1024;

/**
 * Watches an MQTT byte stream and stops it at the first packet whose declared size exceeds
 * `maxBytes`, before the broker buffers it (aedes and mqtt-packet have no such limit: an
 * oversized Remaining Length sent before authentication was a reported problem, aedes #1086).
 * Passes bytes through unchanged otherwise. Along the way it records `evidence` (the first
 * bytes, credentials left out) and reports each complete packet to `onPacket`, which may stop
 * the stream (the chunk that completed the packet, and everything after it, is then not
 * passed on).
 */
export class PacketSizeLimit extends Transform {
  readonly evidence = new MqttEvidence();
  private readonly walker: FrameWalker;
  private type = 0;
  private stopped = false;

  constructor(
    maxBytes: number,
    private readonly onViolation: (declared: number, prefix: Buffer) => void,
    onPacket: (type: number) => boolean = () => true,
  ) {
    super();
    this.walker = new FrameWalker({
      onHeader: (type, header, bodyLength) => {
        const total = header.length + bodyLength;
        if (total > maxBytes) {
          return new IotError(
            Code.PACKET_TOO_LARGE,
            `MQTT packet of ${total} bytes exceeds the limit of ${maxBytes}`,
          );
        }
        this.type = type;
        if (!this.evidence.complete) this.evidence.onHeader(type, header, bodyLength);
        return undefined;
      },
      onBody: (bytes) => {
        if (!this.evidence.complete) this.evidence.onBody(bytes);
      },
      onEnd: () => {
        this.evidence.onEnd();
        return onPacket(this.type) ? undefined : new IotError(Code.MQTT_STOPPED, 'stopped');
      },
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.stopped) {
      done();
      return;
    }
    const stop = this.walker.feed(chunk);
    if (stop === undefined) {
      done(null, chunk);
      return;
    }
    this.stopped = true;
    if (!(stop.error instanceof IotError) || stop.error.code === Code.MQTT_STOPPED) {
      done();
      return;
    }
    const { header } = stop;
    const type = (header[0] ?? 0) >> 4;
    const tooLarge = stop.error.code === Code.PACKET_TOO_LARGE;
    // The body of a credential packet is never kept, not even here.
    const body =
      tooLarge && type !== PACKET_CONNECT && type !== PACKET_AUTH
        ? chunk.subarray(stop.at, stop.at + PREFIX_BYTES)
        : Buffer.alloc(0);
    this.onViolation(tooLarge ? declaredSize(header) : Number.NaN, Buffer.concat([header, body]));
    done(stop.error);
  }
}

/** Fixed header plus declared Remaining Length. */
function declaredSize(header: Buffer): number {
  let length = 0;
  for (let k = header.length - 1; k >= 1; k -= 1)
    length = length * 128 + ((header[k] as number) & 0x7f);
  return header.length + length;
}
