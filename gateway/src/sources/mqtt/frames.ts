import { IotError } from '@iot-stream/contracts';
import { Code } from '../../errors.ts';

/** MQTT control packet types whose bodies carry credentials [MQTT-3.1.3] (and, in MQTT 5, AUTH). */
export const PACKET_CONNECT = 1;
export const PACKET_AUTH = 15;

/** What a walk over an MQTT byte stream reports, packet by packet. */
export interface FrameVisitor {
  /**
   * A packet's fixed header is complete: `type` is its high nibble, `header` the fixed-header
   * bytes, `bodyLength` its declared Remaining Length. Returning an error stops the walk.
   */
  onHeader(type: number, header: Buffer, bodyLength: number): Error | undefined;
  /** Bytes of the current packet's body (a packet's body may arrive in several parts). */
  onBody(bytes: Buffer): void;
  /** The current packet's body is complete. Returning an error stops the walk. */
  onEnd(): Error | undefined;
}

/** Where and why a walk stopped: `at` is the index in the chunk just past the last byte read. */
export interface FrameStop {
  error: Error;
  at: number;
  /** The fixed header of the packet it stopped at (empty when it stopped at a packet's end). */
  header: Buffer;
}

/**
 * Walks an MQTT byte stream fed in arbitrary chunks, finding packet boundaries from the fixed
 * header alone (type byte + 1..4 Remaining Length bytes [MQTT-2.2.3]) without buffering a
 * packet. Feed it from the first byte of a connection, or of a stored packet.
 */
export class FrameWalker {
  /** Bytes still to come in the current packet's body. */
  private remaining = 0;
  /** Fixed-header bytes gathered so far. */
  private header: number[] = [];

  constructor(private readonly visitor: FrameVisitor) {}

  feed(chunk: Buffer): FrameStop | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.visitor.onBody(chunk.subarray(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) {
          const error = this.visitor.onEnd();
          if (error) return { error, at: i, header: Buffer.alloc(0) };
        }
        continue;
      }
      this.header.push(chunk[i] as number);
      i += 1;
      if (this.header.length === 1) continue;
      const last = this.header[this.header.length - 1] as number;
      if (last & 0x80 && this.header.length < 5) continue;
      const header = Buffer.from(this.header);
      this.header = [];
      // [MQTT-2.2.3]: at most four Remaining Length bytes.
      if (last & 0x80)
        return {
          error: new IotError(Code.MQTT_BAD_LENGTH, 'malformed MQTT remaining length'),
          at: i,
          header,
        };
      let length = 0;
      for (let k = header.length - 1; k >= 1; k -= 1)
        length = length * 128 + ((header[k] as number) & 0x7f);
      const error = this.visitor.onHeader((header[0] as number) >> 4, header, length);
      if (error) return { error, at: i, header };
      this.remaining = length;
      if (length === 0) {
        const ended = this.visitor.onEnd();
        if (ended) return { error: ended, at: i, header: Buffer.alloc(0) };
      }
    }
    return undefined;
  }
}
