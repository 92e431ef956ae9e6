// Streaming decoder [FP-2.*], [FP-6.8]: takes arbitrary chunks, resynchronises at every 0x00,
// never throws, and reports every rejected frame with its code, reason and raw bytes.

import { cobsDecodeInto, cobsMaxEncodedLength } from './cobs.ts';
import { FRAME_ERROR_CODES, type FrameErrorCode } from './errors.ts';
import { decodeFrameBytes } from './frame.ts';
import { DEFAULT_MAX_FRAME, type FrameHeader, MAX_FRAME_LIMIT, MIN_FRAME } from './header.ts';
import type { AckBody, Frame } from './messages.ts';
import { type SeqCounters, type SeqStatus, SequenceTracker } from './sequence.ts';

export interface DecodedFrame {
  kind: 'frame';
  /** Stream offset of the frame's first encoded byte. */
  offset: number;
  frame: Frame;
  /** The unframed bytes (header | payload | CRC): the MQTT `data/bin` form. */
  bytes: Uint8Array;
  status: SeqStatus;
  /** For status 'gap': how many frames are missing before this one. */
  missing: number;
}

export interface RejectedFrame {
  kind: 'rejected';
  offset: number;
  code: FrameErrorCode;
  reason: string;
  /** The encoded bytes as received, without the delimiter (cut to the limit when too long). */
  raw: Uint8Array;
  /** How many encoded bytes the rejected frame had. */
  length: number;
  /** Set when CRC, version and flags were valid, so seq tracking counted the frame. */
  header?: FrameHeader;
}

export type DecoderEvent = DecodedFrame | RejectedFrame;

export interface DecoderCounters extends SeqCounters {
  bytes: number;
  frames: number;
  rejected: number;
  errors: Record<FrameErrorCode, number>;
}

export interface DecoderOptions {
  /** Largest unframed frame accepted, 254 by default [FP-2.6]; see setMaxFrame. */
  maxFrame?: number;
}

export function newCounters(): DecoderCounters {
  const errors = {} as Record<FrameErrorCode, number>;
  for (const code of FRAME_ERROR_CODES) errors[code] = 0;
  return {
    bytes: 0,
    frames: 0,
    rejected: 0,
    sessions: 0,
    gaps: 0,
    lost: 0,
    duplicates: 0,
    recovered: 0,
    errors,
  };
}

export class FrameDecoder {
  readonly counters: DecoderCounters = newCounters();
  private maxFrame = DEFAULT_MAX_FRAME;
  private maxEncoded = cobsMaxEncodedLength(DEFAULT_MAX_FRAME);
  private buf: Uint8Array;
  private len = 0;
  /** Encoded bytes of the current frame, including those dropped past the limit. */
  private total = 0;
  private start = 0;
  private readonly tracker = new SequenceTracker();

  constructor(options: DecoderOptions = {}) {
    this.buf = new Uint8Array(0);
    this.setMaxFrame(options.maxFrame ?? DEFAULT_MAX_FRAME);
  }

  /** Changes the limit, e.g. after hello negotiated a larger one [FP-6.4]. */
  setMaxFrame(maxFrame: number): void {
    if (!Number.isInteger(maxFrame) || maxFrame < MIN_FRAME || maxFrame > MAX_FRAME_LIMIT) {
      throw new RangeError(`maxFrame must be ${MIN_FRAME}..${MAX_FRAME_LIMIT}`);
    }
    this.maxFrame = maxFrame;
    this.maxEncoded = cobsMaxEncodedLength(maxFrame);
    if (this.buf.length < this.maxEncoded) {
      const next = new Uint8Array(this.maxEncoded);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
  }

  /** Feeds a chunk of any size; returns the frames it completed. */
  push(chunk: Uint8Array): DecoderEvent[] {
    const events: DecoderEvent[] = [];
    const base = this.counters.bytes;
    this.counters.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      const zero = chunk.indexOf(0, i);
      const end = zero < 0 ? chunk.length : zero;
      if (this.total === 0) this.start = base + i;
      const room = this.maxEncoded - this.len;
      const take = Math.min(room, end - i);
      if (take > 0) {
        this.buf.set(chunk.subarray(i, i + take), this.len);
        this.len += take;
      }
      this.total += end - i;
      if (zero < 0) break;
      if (this.total > 0) events.push(this.finish(false));
      i = zero + 1;
    }
    return events;
  }

  /** The ack body for the peer's current session, or undefined before any frame [FP-6.3]. */
  ack(): AckBody | undefined {
    return this.tracker.ack();
  }

  /** Ends the stream: bytes after the last delimiter are a truncated frame [FP-2.8]. */
  end(): DecoderEvent[] {
    return this.total > 0 ? [this.finish(true)] : [];
  }

  private finish(atEnd: boolean): DecoderEvent {
    const len = this.len;
    const total = this.total;
    const offset = this.start;
    this.len = 0;
    this.total = 0;
    if (total > this.maxEncoded) {
      return this.reject(
        offset,
        'FRAME_TOO_LONG',
        `frame of ${total} encoded bytes exceeds the limit of ${this.maxEncoded}`,
        len,
        total,
      );
    }
    if (atEnd) {
      return this.reject(
        offset,
        'TRUNCATED',
        `stream ended inside a frame after ${total} bytes`,
        len,
        total,
      );
    }
    const out = new Uint8Array(len);
    const cobs = cobsDecodeInto(this.buf, 0, len, out);
    if (!cobs.ok) return this.reject(offset, 'COBS_INVALID', cobs.reason, len, total);
    const raw = out.subarray(0, cobs.length);
    const r = decodeFrameBytes(raw, this.maxFrame);
    const c = this.counters;
    if (r.ok) {
      c.frames++;
      const t = this.tracker.track(r.header.session, r.header.seq, c);
      return {
        kind: 'frame',
        offset,
        frame: r.frame,
        bytes: raw,
        status: t.status,
        missing: t.missing,
      };
    }
    if (r.header) this.tracker.track(r.header.session, r.header.seq, c);
    return this.reject(offset, r.code, r.reason, len, total, r.header);
  }

  private reject(
    offset: number,
    code: FrameErrorCode,
    reason: string,
    kept: number,
    length: number,
    header?: FrameHeader,
  ): RejectedFrame {
    this.counters.rejected++;
    this.counters.errors[code]++;
    const ev: RejectedFrame = {
      kind: 'rejected',
      offset,
      code,
      reason,
      raw: this.buf.slice(0, kept),
      length,
    };
    if (header) ev.header = header;
    return ev;
  }
}
