// Builds unframed frames around any payload, with a correct CRC (or a wrong one on request).

import { crc32 } from '../../src/crc.ts';
import { writeHeader, writeU32le } from '../../src/header.ts';

export function rawFrameBytes(
  h: { version?: number; flags?: number; type: number; seq: number; session: number },
  payload: Uint8Array,
  crcXor = 0,
): Uint8Array {
  const out = new Uint8Array(9 + payload.length + 4);
  writeHeader(
    { version: h.version ?? 1, flags: h.flags ?? 0, type: h.type, seq: h.seq, session: h.session },
    out,
    0,
  );
  out.set(payload, 9);
  writeU32le((crc32(out, 0, out.length - 4) ^ crcXor) >>> 0, out, out.length - 4);
  return out;
}
