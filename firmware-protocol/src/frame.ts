// One frame without COBS [FP-3.1]: header | payload | CRC-32. This is also the MQTT `data/bin`
// payload [FP-7.5]. Checks run in the order of [FP-3.10].

import { cborDecode } from './cbor.ts';
import { crc32 } from './crc.ts';
import { type Failure, type FrameErrorCode, fail } from './errors.ts';
import {
  CRC_SIZE,
  DEFAULT_MAX_FRAME,
  FLAGS_MUST_UNDERSTAND,
  type FrameHeader,
  HEADER_SIZE,
  hex8,
  MIN_FRAME,
  PROTOCOL_VERSION,
  readHeader,
  readU32le,
  writeHeader,
  writeU32le,
} from './header.ts';
import { decodeBody } from './message-decode.ts';
import { encodeBody } from './message-encode.ts';
import { type Frame, MESSAGE_TYPES, type MessageTypeName, messageTypeName } from './messages.ts';

export type FrameDecodeResult =
  | { ok: true; frame: Frame; header: FrameHeader }
  | { ok: false; code: FrameErrorCode; reason: string; header?: FrameHeader };

/** Decodes one unframed frame; never throws. `header` is set once the header was valid. */
export function decodeFrameBytes(
  raw: Uint8Array,
  maxFrame: number = DEFAULT_MAX_FRAME,
): FrameDecodeResult {
  const n = raw.length;
  if (n > maxFrame) {
    return fail('FRAME_TOO_LONG', `frame of ${n} bytes exceeds the maximum of ${maxFrame}`);
  }
  if (n < MIN_FRAME) {
    return fail('TRUNCATED', `frame of ${n} bytes is shorter than the minimum of ${MIN_FRAME}`);
  }
  const body = n - CRC_SIZE;
  const computed = crc32(raw, 0, body);
  const stated = readU32le(raw, body);
  if (computed !== stated) {
    return fail('CRC_MISMATCH', `crc32 is 0x${hex8(computed)}, frame says 0x${hex8(stated)}`);
  }
  const header = readHeader(raw, 0);
  if (header.version !== PROTOCOL_VERSION) {
    return fail(
      'UNSUPPORTED_VERSION',
      `version ${header.version} is not supported (expected ${PROTOCOL_VERSION})`,
    );
  }
  const mu = header.flags & FLAGS_MUST_UNDERSTAND;
  if (mu !== 0) {
    const hex = mu.toString(16).padStart(2, '0');
    return fail('UNSUPPORTED_FLAGS', `must-understand flags 0x${hex} are not supported`);
  }
  const type = messageTypeName(header.type);
  if (type === undefined) {
    return { ...fail('UNKNOWN_TYPE', `message type ${header.type} is unknown`), header };
  }
  const cbor = cborDecode(raw, HEADER_SIZE, body);
  if (!cbor.ok) return { ok: false, code: cbor.code, reason: cbor.reason, header };
  const msg = decodeBody(type, cbor.value);
  if (!msg.ok) return { ...fail('PAYLOAD_INVALID', msg.reason), header };
  const frame = {
    version: header.version,
    flags: header.flags,
    seq: header.seq,
    session: header.session,
    type: msg.message.type,
    body: msg.message.body,
  } as Frame;
  return { ok: true, frame, header };
}

export type FrameEncodeResult = { ok: true; bytes: Uint8Array } | Failure;

function headerOk(v: unknown, max: number): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
}

/**
 * Validates a frame (typed, or parsed from JSON) and returns its unframed bytes; never throws.
 * `version` and `flags` may be anything in 0..255 so that tests can build frames a receiver
 * must refuse.
 */
export function encodeFrameBytes(
  frame: unknown,
  maxFrame: number = DEFAULT_MAX_FRAME,
): FrameEncodeResult {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return fail('FRAME_INVALID', 'frame: expected an object');
  }
  const f = frame as Record<string, unknown>;
  const version = f.version ?? PROTOCOL_VERSION;
  const flags = f.flags ?? 0;
  if (!headerOk(version, 0xff)) return fail('FRAME_INVALID', 'version: expected 0..255');
  if (!headerOk(flags, 0xff)) return fail('FRAME_INVALID', 'flags: expected 0..255');
  if (!headerOk(f.seq, 0xffff)) return fail('FRAME_INVALID', 'seq: expected 0..65535');
  if (!headerOk(f.session, 0xffff_ffff)) {
    return fail('FRAME_INVALID', 'session: expected 0..4294967295');
  }
  const typeName = f.type;
  if (typeof typeName !== 'string' || !Object.hasOwn(MESSAGE_TYPES, typeName)) {
    return fail('FRAME_INVALID', 'type: expected a message type name');
  }
  const type = typeName as MessageTypeName;
  const payload = encodeBody(type, f.body);
  if (!payload.ok) return fail('FRAME_INVALID', payload.reason);
  const n = HEADER_SIZE + payload.payload.length + CRC_SIZE;
  if (n > maxFrame) {
    return fail('FRAME_INVALID', `frame of ${n} bytes exceeds the maximum of ${maxFrame}`);
  }
  const out = new Uint8Array(n);
  const header: FrameHeader = {
    version: version as number,
    flags: flags as number,
    type: MESSAGE_TYPES[type],
    seq: f.seq as number,
    session: f.session as number,
  };
  writeHeader(header, out, 0);
  out.set(payload.payload, HEADER_SIZE);
  writeU32le(crc32(out, 0, n - CRC_SIZE), out, n - CRC_SIZE);
  return { ok: true, bytes: out };
}
