// Stable error codes of the wire protocol. Codes are never reused or renamed (SPEC.md §9).

/** Codes a receiver reports for a rejected frame, in the fixed order used by counters [FP-6.8]. */
export const FRAME_ERROR_CODES = [
  'TRUNCATED',
  'FRAME_TOO_LONG',
  'COBS_INVALID',
  'CRC_MISMATCH',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FLAGS',
  'UNKNOWN_TYPE',
  'CBOR_INVALID',
  'CBOR_NON_CANONICAL',
  'CBOR_UNSUPPORTED',
  'PAYLOAD_INVALID',
] as const;

export type FrameErrorCode = (typeof FRAME_ERROR_CODES)[number];

/** Codes for inputs that are not frames: JSON on MQTT, topics, and frames given to the encoder. */
export type InputErrorCode = 'JSON_INVALID' | 'TOPIC_INVALID' | 'FRAME_INVALID';

export type ErrorCode = FrameErrorCode | InputErrorCode;

export class ProtocolError extends Error {
  readonly code: ErrorCode;
  /** Decoding the same bytes again gives the same answer, so no protocol error is retriable. */
  readonly retriable = false;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** A check that failed: what the codec returns instead of throwing. */
export interface Failure {
  ok: false;
  code: ErrorCode;
  reason: string;
}

export function fail<C extends ErrorCode>(
  code: C,
  reason: string,
): { ok: false; code: C; reason: string } {
  return { ok: false, code, reason };
}

export function isFrameErrorCode(code: string): code is FrameErrorCode {
  return (FRAME_ERROR_CODES as readonly string[]).includes(code);
}
