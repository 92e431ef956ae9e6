import { Transform, type TransformCallback } from 'node:stream';
import { IotError } from '@iot-stream/contracts';

/**
 * Watches an MQTT byte stream and stops it at the first packet whose declared size exceeds
 * `maxBytes`, before the broker buffers it (aedes and mqtt-packet have no such limit: an
 * oversized Remaining Length sent before authentication was a reported problem, aedes #1086).
 * Passes bytes through unchanged otherwise.
 */
export class PacketSizeLimit extends Transform {
  /** Bytes still to skip in the current packet's body. */
  private remaining = 0;
  /** Fixed-header bytes gathered so far (type byte + up to 4 length bytes). */
  private header: number[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly onViolation: (declared: number, prefix: Buffer) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      this.header.push(chunk[i] as number);
      i += 1;
      if (this.header.length === 1) continue;
      const last = this.header[this.header.length - 1] as number;
      if (last & 0x80 && this.header.length < 5) continue;
      if (last & 0x80) {
        this.onViolation(Number.NaN, chunk.subarray(0, Math.min(chunk.length, 1024)));
        done(new IotError('MQTT_BAD_LENGTH', 'malformed MQTT remaining length'));
        return;
      }
      let length = 0;
      for (let k = this.header.length - 1; k >= 1; k -= 1)
        length = length * 128 + ((this.header[k] as number) & 0x7f);
      const total = this.header.length + length;
      if (total > this.maxBytes) {
        this.onViolation(
          total,
          chunk.subarray(Math.max(0, i - this.header.length), Math.min(chunk.length, i + 1024)),
        );
        done(
          new IotError(
            'PACKET_TOO_LARGE',
            `MQTT packet of ${total} bytes exceeds the limit of ${this.maxBytes}`,
          ),
        );
        return;
      }
      this.remaining = length;
      this.header = [];
    }
    done(null, chunk);
  }
}
