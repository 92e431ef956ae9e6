import { createHash } from 'node:crypto';
import type { OutputRecord } from './outputs.ts';

/** How much of a dead letter's value is kept when it is larger: a prefix of 4 KiB. */
export const DEAD_LETTER_PREFIX_BYTES = 4096;
/** How much of a header value (the reason, say) is kept. */
export const DEAD_LETTER_HEADER_BYTES = 1024;

/** Set on a dead letter whose value was cut: its original length in bytes, and its digest. */
export const ORIGINAL_LENGTH_HEADER = 'iot-original-length';
export const ORIGINAL_SHA256_HEADER = 'iot-original-sha256';
/** Every dead letter carries it (outputs.ts deadLetterRecord): how one is told apart. */
export const ERROR_CODE_HEADER = 'iot-error-code';

export function isDeadLetter(m: OutputRecord): boolean {
  return m.headers?.[ERROR_CODE_HEADER] !== undefined;
}

/**
 * A dead letter fit to keep: a value over `maxBytes` becomes its first `maxBytes` bytes (cut
 * at a character boundary when it is text), with its original length and SHA-256 in headers,
 * so a 20 MB junk body costs 4 KiB, and what it was can still be told and matched against
 * the sender's copy. Header values over DEAD_LETTER_HEADER_BYTES are cut the same way. A value
 * within bounds is left as it is (no headers added).
 */
export function boundDeadLetter(
  m: OutputRecord,
  maxBytes = DEAD_LETTER_PREFIX_BYTES,
): OutputRecord {
  const headers = boundHeaders(m.headers);
  const value = m.value;
  if (value === null || value === undefined) return { ...m, headers };
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
  if (bytes.length <= maxBytes) return { ...m, headers };
  const prefix = bytes.subarray(0, Buffer.isBuffer(value) ? maxBytes : textCut(bytes, maxBytes));
  return {
    ...m,
    value: Buffer.isBuffer(value) ? Buffer.from(prefix) : prefix.toString('utf8'),
    headers: {
      ...headers,
      [ORIGINAL_LENGTH_HEADER]: String(bytes.length),
      [ORIGINAL_SHA256_HEADER]: createHash('sha256').update(bytes).digest('hex'),
    },
  };
}

/** The largest length <= max that does not split a UTF-8 character of `bytes`. */
function textCut(bytes: Buffer, max: number): number {
  let n = max;
  // A continuation byte (10xxxxxx) at n means a character starts before n and ends after it.
  while (n > 0 && ((bytes[n] as number) & 0xc0) === 0x80) n -= 1;
  return n;
}

function boundHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (Buffer.byteLength(v) > DEAD_LETTER_HEADER_BYTES) {
      const bytes = Buffer.from(v);
      out[name] =
        `${bytes.subarray(0, textCut(bytes, DEAD_LETTER_HEADER_BYTES)).toString('utf8')}…`;
    } else out[name] = v;
  }
  return out;
}
