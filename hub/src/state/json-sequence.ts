/**
 * An array of a snapshot whose elements are made only as it is serialised, one at a time
 * (`encodeJson`): a partition's checkpoint (up to tens of MB of JSON at 100k series) never holds
 * its whole state as objects and as one JSON string at once. JSON.stringify gives the same text
 * (`toJSON` makes them all). It reads the live state: encode it before that state changes.
 */
export class JsonSequence<T> {
  constructor(private readonly items: () => Iterable<T>) {}

  [Symbol.iterator](): Iterator<T> {
    return this.items()[Symbol.iterator]();
  }

  toJSON(): T[] {
    return Array.from(this.items());
  }
}

/** The elements of `source` mapped, in a JsonSequence when `lazy`, else in an array. */
export function sequence<S, T>(
  source: Iterable<S>,
  map: (item: S) => T,
  lazy: boolean,
): T[] | JsonSequence<T> {
  const items = function* () {
    for (const item of source) yield map(item);
  };
  return lazy ? new JsonSequence(items) : Array.from(items());
}

/** Objects with more keys than this are serialised whole (a JsonSequence in them still works). */
const WALK_KEYS = 32;
/** The first buffer's size: larger ones are mapped and unmapped whole (no malloc'ed leftovers). */
const FIRST_BYTES = 256 * 1024;

/** UTF-8 bytes written as they come, into a buffer that doubles when full. */
class Bytes {
  private buf = Buffer.allocUnsafe(FIRST_BYTES);
  private length = 0;

  push(s: string): void {
    // UTF-8 bytes of a UTF-16 string: at most three a character; counted for a long one (a
    // whole array JSON.stringify wrote), which would otherwise reserve three times its size.
    const most = s.length > 65_536 ? Buffer.byteLength(s) : s.length * 3;
    if (this.length + most > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + most));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += this.buf.write(s, this.length);
  }

  /** What was written (a view: up to half the buffer may lie unused behind it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function walkable(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function' &&
    Object.keys(value).length <= WALK_KEYS
  );
}

function write(value: unknown, out: Bytes): void {
  if (value instanceof JsonSequence) {
    out.push('[');
    let first = true;
    for (const item of value) {
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(item) ?? 'null'); // as in an array: undefined, functions -> null
    }
    out.push(']');
    return;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && walkable(value)) {
    out.push('{');
    let first = true;
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (v instanceof JsonSequence || (typeof v === 'object' && v !== null && walkable(v))) {
        out.push(`${first ? '' : ','}${JSON.stringify(key)}:`);
        first = false;
        write(v, out);
        continue;
      }
      const text = JSON.stringify(v); // undefined where a toJSON gives nothing: the key goes too
      if (text === undefined) continue;
      out.push(`${first ? '' : ','}${JSON.stringify(key)}:${text}`);
      first = false;
    }
    out.push('}');
    return;
  }
  const text = JSON.stringify(value); // (only the top: nested values are written above)
  if (text === undefined) throw new TypeError('encodeJson: nothing to encode');
  out.push(text);
}

/**
 * `value` as JSON.stringify would write it, in UTF-8 bytes, made piecewise: the elements of
 * each JsonSequence are made, serialised, written as bytes and dropped one by one, so no
 * string of the whole is ever made. Plain objects are walked to find the sequences in them;
 * arrays and everything else go to JSON.stringify. The bytes are a view of a buffer up to
 * twice their size.
 */
export function encodeJson(value: unknown): Buffer {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw new TypeError('encodeJson: nothing to encode');
  const out = new Bytes();
  write(value, out);
  return out.bytes();
}
