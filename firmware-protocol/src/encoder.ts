// Frames onto the wire [FP-2.1], [FP-2.2]: COBS(header | payload | CRC) followed by 0x00.

import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.ts';
import { type Failure, ProtocolError } from './errors.ts';
import { encodeFrameBytes } from './frame.ts';
import { DEFAULT_MAX_FRAME } from './header.ts';
import type { Frame } from './messages.ts';

/** COBS-encodes unframed bytes and appends the 0x00 delimiter. */
export function frameWire(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(raw.length) + 1);
  const n = cobsEncodeInto(raw, 0, raw.length, out, 0);
  out[n] = 0;
  return out.slice(0, n + 1);
}

/** Validates and encodes a frame for the wire; never throws. */
export function tryEncodeFrame(
  frame: unknown,
  maxFrame: number = DEFAULT_MAX_FRAME,
): { ok: true; wire: Uint8Array; bytes: Uint8Array } | Failure {
  const r = encodeFrameBytes(frame, maxFrame);
  if (!r.ok) return r;
  return { ok: true, wire: frameWire(r.bytes), bytes: r.bytes };
}

/** Encodes a frame for the wire; throws ProtocolError(FRAME_INVALID) if it is not valid. */
export function encodeFrame(frame: Frame, maxFrame: number = DEFAULT_MAX_FRAME): Uint8Array {
  const r = tryEncodeFrame(frame, maxFrame);
  if (!r.ok) throw new ProtocolError(r.code, r.reason);
  return r.wire;
}

/** The sending side of a session [FP-3.6], [FP-3.7]: stamps session and the next seq. */
export class FrameSender {
  private nextSeq = 0;

  constructor(
    readonly session: number,
    private readonly maxFrame: number = DEFAULT_MAX_FRAME,
  ) {}

  /** Encodes a message as the next frame of this session. */
  send(message: Omit<Frame, 'version' | 'flags' | 'seq' | 'session'>, flags = 0): Uint8Array {
    const frame = {
      version: 1,
      flags,
      seq: this.nextSeq,
      session: this.session,
      ...message,
    } as Frame;
    const wire = encodeFrame(frame, this.maxFrame);
    this.nextSeq = (this.nextSeq + 1) & 0xffff;
    return wire;
  }
}
