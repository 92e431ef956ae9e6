import type { ReadingRecord } from '@iot-stream/contracts';

// How RecentIds (recent-ids.ts) takes ids apart: a prefix, a small middle number and a number.

/** The parts of the ids being looked at (no array per id): a record has at most two. */
export const PREFIX: string[] = ['', ''];
export const MIDDLE: number[] = [0, 0];
export const NUMBER: number[] = [0, 0];

function setParts(k: number, prefix: string, middle: number, n: number): void {
  PREFIX[k] = prefix;
  MIDDLE[k] = middle;
  NUMBER[k] = n;
}

/**
 * An id's parts into PREFIX, MIDDLE and NUMBER at k: `g:gw-1:1234` -> `g:gw-1`, 0, 1234;
 * `t:17:1764000000000` -> `t`, 18, 1764000000000 (a middle number m is kept as m + 1); an id
 * without a number tail -> the id, 0, -1. join() gives the id back exactly.
 */
export function splitTo(k: number, id: string): void {
  const at = id.lastIndexOf(':');
  // A tail it can keep exactly: canonical decimal digits of a safe integer (up to 15).
  const n = at < 0 ? -1 : digits(id, at + 1, id.length, 15);
  if (n < 0) {
    setParts(k, id, 0, -1);
    return;
  }
  const before = at > 0 ? id.lastIndexOf(':', at - 1) : -1;
  // A middle number it keeps in 16 bits (plus 1): 0..65534.
  const middle = before < 0 ? -1 : digits(id, before + 1, at, 5);
  if (middle >= 0 && middle < 65_535) setParts(k, id.slice(0, before), middle + 1, n);
  else setParts(k, id.slice(0, at), 0, n);
}

/** Whether String(n) is canonical digits splitTo keeps as a number: up to 15, no sign. */
const tail = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) < 1e15;
/** Whether String(n) is a middle number splitTo keeps: 0..65534. */
const small = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) < 65_535;

/** `g:<gateway>` and `s:<session>` prefixes, made once (only a cache: cleared when large). */
const gatewayPrefixes = new Map<string, string>();
const sessionPrefixes = new Map<number, string>();

/** `${kind}:${key}`, made once per key. */
function prefixOf<K extends string | number>(map: Map<K, string>, kind: string, key: K): string {
  let prefix = map.get(key);
  if (prefix === undefined) {
    if (map.size >= 4096) map.clear();
    prefix = `${kind}:${key}`;
    map.set(key, prefix);
  }
  return prefix;
}

/**
 * The parts of recordIds(r) (exactly as splitTo gives them) into 0 and 1; how many ids. Fields
 * a plain record has are read directly; anything else goes through the id strings.
 */
export function splitRecordIds(r: ReadingRecord): number {
  const { gatewayId, gatewaySeq, seq } = r;
  if (
    !tail(gatewaySeq) ||
    gatewayId.includes(':') ||
    digits(gatewayId, 0, gatewayId.length, 5) >= 0
  )
    splitTo(0, `g:${gatewayId}:${gatewaySeq}`);
  else setParts(0, prefixOf(gatewayPrefixes, 'g', gatewayId), 0, gatewaySeq);
  if (seq === undefined) return 1;
  const { session, time } = r;
  if (session !== undefined) {
    if (!tail(seq) || !Number.isInteger(session) || session < 0) splitTo(1, `s:${session}:${seq}`);
    else if (small(session)) setParts(1, 's', session + 1, seq);
    else setParts(1, prefixOf(sessionPrefixes, 's', session), 0, seq);
  } else if (tail(time) && small(seq)) setParts(1, 't', seq + 1, time);
  else splitTo(1, `t:${seq}:${time}`);
  return 2;
}

/**
 * The value of s[from, to) when it is canonical decimal digits (no leading zero unless it is
 * `0`), at most `max` of them; -1 otherwise. A scan: cheaper than a regular expression and a
 * substring per id.
 */
function digits(s: string, from: number, to: number, max: number): number {
  const length = to - from;
  if (length < 1 || length > max || (length > 1 && s.charCodeAt(from) === 48)) return -1;
  let value = 0;
  for (let i = from; i < to; i += 1) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

export function join(prefix: string, middle: number, n: number): string {
  if (n < 0) return prefix;
  return middle > 0 ? `${prefix}:${middle - 1}:${n}` : `${prefix}:${n}`;
}

/** Mixes a prefix index, a middle and a number (up to 2^53) into 32 bits (murmur3's finaliser). */
export function hash(prefix: number, middle: number, n: number): number {
  let h = Math.imul((prefix ^ 0x9e3779b9) + Math.imul(middle, 0x27d4eb2f), 0x85ebca6b);
  h ^= Math.imul(n >>> 0, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(Math.floor(n / 4294967296) | 0, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * The ids a duplicate shares with its original: (gatewayId, gatewaySeq), and the device's own
 * (session, seq) when it sends one. Without a session the event time is part of the id, so a
 * device that reboots and restarts its seq at 0 is not mistaken for a duplicate.
 */
export function recordIds(r: ReadingRecord): string[] {
  const ids = [`g:${r.gatewayId}:${r.gatewaySeq}`];
  if (r.seq !== undefined) {
    ids.push(r.session !== undefined ? `s:${r.session}:${r.seq}` : `t:${r.seq}:${r.time}`);
  }
  return ids;
}
