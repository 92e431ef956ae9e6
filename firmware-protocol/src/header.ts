// Frame layout [FP-3.1]: header (9 bytes) | payload | CRC-32 (4 bytes), little-endian fields.

export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 9;
export const CRC_SIZE = 4;
/** Smallest frame: a header and a CRC with an empty payload [FP-3.9]. */
export const MIN_FRAME = HEADER_SIZE + CRC_SIZE;
/** Every receiver accepts frames of this many bytes (before COBS) [FP-2.6]. */
export const DEFAULT_MAX_FRAME = 254;
/** Largest maximum two peers may negotiate [FP-6.4]. */
export const MAX_FRAME_LIMIT = 65535;

/** Low nibble of the flags byte: must-understand; none are defined in version 1 [FP-3.3]. */
export const FLAGS_MUST_UNDERSTAND = 0x0f;
/** The sender wants an acknowledgement for this frame [FP-3.4]. */
export const FLAG_ACK_REQUEST = 0x10;
/** The frame is a retransmission of an earlier one with the same session and seq [FP-3.4]. */
export const FLAG_RETRANSMIT = 0x20;

export interface FrameHeader {
  version: number;
  flags: number;
  /** Message type code [FP-3.5]. */
  type: number;
  /** Per-session sequence number, 0..65535, wraps [FP-3.6]. */
  seq: number;
  /** Per-boot session id, 0..2^32-1 [FP-3.7]. */
  session: number;
}

export function writeHeader(h: FrameHeader, out: Uint8Array, at: number): void {
  out[at] = h.version;
  out[at + 1] = h.flags;
  out[at + 2] = h.type;
  out[at + 3] = h.seq & 0xff;
  out[at + 4] = h.seq >>> 8;
  out[at + 5] = h.session & 0xff;
  out[at + 6] = (h.session >>> 8) & 0xff;
  out[at + 7] = (h.session >>> 16) & 0xff;
  out[at + 8] = h.session >>> 24;
}

export function readHeader(b: Uint8Array, at: number): FrameHeader {
  return {
    version: b[at]!,
    flags: b[at + 1]!,
    type: b[at + 2]!,
    seq: b[at + 3]! | (b[at + 4]! << 8),
    session: (b[at + 5]! | (b[at + 6]! << 8) | (b[at + 7]! << 16) | (b[at + 8]! << 24)) >>> 0,
  };
}

export function readU32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function writeU32le(v: number, out: Uint8Array, at: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = v >>> 24;
}

export function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}
