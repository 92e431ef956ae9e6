// Pure: Modbus RTU framing, the server's side. Modbus over Serial Line v1.02 (MB-SL): a frame
// is the unit address, the PDU and a CRC-16 sent low byte first [MB-SL 2.5.1.2], at most 256
// bytes [MB-SL 2.5.1], delimited by at least 3.5 character times of silence [MB-SL 2.5.1.1].
// No I/O and no clock: the time of each chunk is passed in.

/** CRC-16/MODBUS: polynomial 0x8005 reflected (0xA001), init 0xFFFF [MB-SL 6.2.2]. Check: "123456789" -> 0x4B37. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i += 1) {
    crc ^= bytes[i] as number;
    for (let b = 0; b < 8; b += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** A whole frame: unit address, PDU, CRC low byte then high byte. */
export function encodeRtuFrame(unit: number, pdu: Uint8Array): Uint8Array {
  const frame = new Uint8Array(pdu.length + 3);
  frame[0] = unit;
  frame.set(pdu, 1);
  const crc = crc16Modbus(frame, 0, pdu.length + 1);
  frame[pdu.length + 1] = crc & 0xff;
  frame[pdu.length + 2] = crc >> 8;
  return frame;
}

export const MAX_RTU_FRAME = 256;
/** [MB-SL 2.2] 0 is broadcast (no answer); 1..247 are unit addresses; 248..255 reserved. */
export const BROADCAST = 0;

/**
 * The length of a request frame from its first bytes, by function code [MB-AP 6]: a number
 * once known, 0 when more bytes are needed to tell, undefined for a function code whose
 * request length we do not know (its frame then ends at a valid CRC or at the silence).
 */
export function requestFrameLength(buf: Uint8Array): number | undefined {
  if (buf.length < 2) return 0;
  const fc = buf[1] as number;
  switch (fc) {
    case 1: // read coils, discrete inputs, holding, input registers; write single coil, register
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 8: // diagnostics: sub-function and one data word
      return 8;
    case 7: // read exception status, comm event counter, comm event log, report server id
    case 11:
    case 12:
    case 17:
      return 4;
    case 15: // write multiple coils / registers: byte count at offset 6
    case 16:
      return buf.length < 7 ? 0 : 9 + (buf[6] as number);
    case 22: // mask write register
      return 10;
    case 23: // read/write multiple registers: write byte count at offset 10
      return buf.length < 11 ? 0 : 13 + (buf[10] as number);
    case 24: // read FIFO queue
      return 6;
    default:
      return undefined;
  }
}

export type RtuEvent =
  | { kind: 'frame'; unit: number; pdu: Uint8Array; length: number }
  /** A frame whose CRC did not match: discarded without an answer [MB-SL 2.5.1.2]. */
  | { kind: 'crc'; raw: Uint8Array }
  /** Bytes that never made a frame before a silence, or past 256 bytes: discarded. */
  | { kind: 'incomplete'; raw: Uint8Array };

/**
 * Cuts the byte stream a server receives into request frames. A frame ends where its function
 * code says (or, for an unknown one, where the CRC over what has arrived matches). Bytes
 * followed by a silence longer than `gapMs` before they made a frame are an incomplete frame
 * and dropped: the next byte starts a new frame [MB-SL 2.5.1.1]. After a CRC error everything
 * buffered is dropped: on a bus with one master nothing valid follows until it asks again.
 */
export class RtuRequestDecoder {
  private buf = new Uint8Array(0);
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly gapMs: number) {}

  push(chunk: Uint8Array, now: number): RtuEvent[] {
    const events: RtuEvent[] = [];
    if (this.buf.length > 0 && now - this.lastAt > this.gapMs) {
      events.push({ kind: 'incomplete', raw: this.buf });
      this.buf = new Uint8Array(0);
    }
    this.lastAt = now;
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    this.buf = joined;
    for (;;) {
      const length = requestFrameLength(this.buf);
      const size =
        length === undefined
          ? this.unknownLength()
          : length > 0
            ? Math.min(length, MAX_RTU_FRAME)
            : 0;
      if (size === 0 || this.buf.length < size) {
        if (this.buf.length >= MAX_RTU_FRAME) {
          events.push({ kind: 'incomplete', raw: this.buf });
          this.buf = new Uint8Array(0);
        }
        return events;
      }
      const frame = this.buf.subarray(0, size);
      const crc = (frame[size - 2] as number) | ((frame[size - 1] as number) << 8);
      if (size < 4 || crc !== crc16Modbus(frame, 0, size - 2)) {
        events.push({ kind: 'crc', raw: this.buf });
        this.buf = new Uint8Array(0);
        return events;
      }
      events.push({
        kind: 'frame',
        unit: frame[0] as number,
        pdu: frame.slice(1, size - 2),
        length: size,
      });
      this.buf = this.buf.slice(size);
    }
  }

  /** An unknown function code: the shortest prefix (>= 4 bytes) whose CRC matches, else wait. */
  private unknownLength(): number {
    for (let n = 4; n <= Math.min(this.buf.length, MAX_RTU_FRAME); n += 1) {
      const crc = (this.buf[n - 2] as number) | ((this.buf[n - 1] as number) << 8);
      if (crc === crc16Modbus(this.buf, 0, n - 2)) return n;
    }
    return 0;
  }
}

/**
 * How long an RTU exchange keeps a line busy, ms: the request and the answer at `bitsPerChar`
 * (11 in the spec's character: start, 8 data, parity or a second stop bit, stop [MB-SL 2.5.1])
 * plus the 3.5-character silence after each; above 19200 baud the silence is fixed at 1.75 ms
 * [MB-SL 2.5.1.1].
 */
export function exchangeMs(
  requestBytes: number,
  answerBytes: number,
  baud: number,
  bitsPerChar = 11,
) {
  const charMs = (bitsPerChar * 1000) / baud;
  const silence = baud > 19_200 ? 1.75 : 3.5 * charMs;
  return (requestBytes + answerBytes) * charMs + 2 * silence;
}
