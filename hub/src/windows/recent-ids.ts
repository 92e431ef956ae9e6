import type { ReadingRecord } from '@iot-stream/contracts';

/**
 * A bounded set of recently seen ids, forgetting the oldest first (FIFO). Used per device to
 * recognise a record that arrives twice. Insertion order is the only order, so eviction is
 * deterministic and the snapshot (oldest first) restores the same set.
 *
 * Memory (it is most of what the hub keeps per device): an id `g:gw-1:1234` is kept as its
 * prefix `g:gw-1`, stored once for all the ids that share it, and its number 1234, in typed
 * arrays that grow to the capacity, with an open-addressing index over them: about 16 bytes an
 * id instead of about 70 for a string in a Set (test/bench/hub-state.ts). A small number
 * before the last one is kept apart too (`t:17:1764000000000`, a device's seq and event time
 * when it sends no session: prefix `t`, 17 and the time), else every id would have a prefix
 * of its own.
 */
export class RecentIds {
  /** The ring, `allocated` slots, the oldest at `head`: each id's number and prefix index. */
  private numbers = new Float64Array(0);
  /**
   * Per slot, the small number before the last one, plus 1 (0: none; see split); empty until
   * an id has one (devices with a session never need it).
   */
  private middles = new Uint16Array(0);
  /** 16 bits while the capacity allows (prefixes in use never outnumber the ids). */
  private prefixOf: Uint16Array | Uint32Array = new Uint16Array(0);
  /**
   * Linear-probing index: slot + 1, 0 = empty; a power of two, at least twice the ring; 16 bits
   * while the capacity allows (the default 256 ids: 1 KB instead of 2).
   */
  private index: Uint16Array | Int32Array = new Uint16Array(0);
  private head = 0;
  private count = 0;
  private readonly prefixes: string[] = [];
  private readonly prefixIds = new Map<string, number>();
  private readonly prefixRefs: number[] = [];
  private readonly freePrefixes: number[] = [];

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    const [prefix, middle, n] = split(id);
    const p = this.prefixIds.get(prefix);
    return p !== undefined && this.find(p, middle, n) >= 0;
  }

  add(id: string): void {
    const [prefix, middle, n] = split(id);
    this.addSplit(prefix, middle, n);
  }

  /**
   * Whether any of `ids` is held; when none is, adds them all (a record's ids: recordIds).
   * The same as `has` of each, then `add` of each, with each id parsed once.
   */
  seenOrAdd(ids: readonly string[]): boolean {
    for (let k = 0; k < ids.length; k += 1) splitTo(k, ids[k] as string);
    return this.seenOrAddSplit(ids.length);
  }

  /**
   * `seenOrAdd(recordIds(r))` without the id strings: each id's parts come straight from the
   * record's fields (the dedup index was a tenth of what the hub allocated under load).
   */
  seenOrAddRecord(r: ReadingRecord): boolean {
    return this.seenOrAddSplit(splitRecordIds(r));
  }

  private seenOrAddSplit(ids: number): boolean {
    for (let k = 0; k < ids; k += 1) {
      const p = this.prefixIds.get(PREFIX[k] as string);
      if (p !== undefined && this.find(p, MIDDLE[k] as number, NUMBER[k] as number) >= 0)
        return true;
    }
    for (let k = 0; k < ids; k += 1)
      this.addSplit(PREFIX[k] as string, MIDDLE[k] as number, NUMBER[k] as number);
    return false;
  }

  private addSplit(prefix: string, middle: number, n: number): void {
    if (this.capacity < 1) return;
    const known = this.prefixIds.get(prefix);
    if (known !== undefined && this.find(known, middle, n) >= 0) return; // already there
    if (this.count === this.numbers.length && this.count < this.capacity) this.grow();
    let slot: number;
    if (this.count < this.numbers.length) {
      slot = (this.head + this.count) % this.numbers.length;
      this.count += 1;
    } else {
      slot = this.head; // full: the new id takes the oldest one's place
      this.unindex(slot);
      this.release(this.prefixOf[slot] as number);
      this.head = (this.head + 1) % this.numbers.length;
    }
    this.numbers[slot] = n;
    if (middle > 0 && this.middles.length === 0)
      this.middles = new Uint16Array(this.numbers.length);
    if (this.middles.length > 0) this.middles[slot] = middle;
    this.prefixOf[slot] = this.acquire(prefix);
    this.insert(slot);
  }

  get size(): number {
    return this.count;
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const slot = (this.head + i) % this.numbers.length;
      const prefix = this.prefixes[this.prefixOf[slot] as number] as string;
      out.push(join(prefix, this.middle(slot), this.numbers[slot] as number));
    }
    return out;
  }

  static restore(capacity: number, ids: readonly string[]): RecentIds {
    const set = new RecentIds(capacity);
    for (const id of ids) set.add(id);
    return set;
  }

  private find(prefix: number, middle: number, n: number): number {
    const mask = this.index.length - 1;
    if (mask < 0) return -1;
    for (let i = hash(prefix, middle, n) & mask; ; i = (i + 1) & mask) {
      const entry = this.index[i] as number;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (
        this.prefixOf[slot] === prefix &&
        this.numbers[slot] === n &&
        this.middle(slot) === middle
      )
        return slot;
    }
  }

  private middle(slot: number): number {
    return this.middles.length === 0 ? 0 : (this.middles[slot] as number);
  }

  /** The index position an id held in `slot` hashes to. */
  private home(slot: number, mask: number): number {
    const prefix = this.prefixOf[slot] as number;
    return hash(prefix, this.middle(slot), this.numbers[slot] as number) & mask;
  }

  private insert(slot: number): void {
    const mask = this.index.length - 1;
    let i = this.home(slot, mask);
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = slot + 1;
  }

  /** Removes a slot from the index, shifting later entries of its probe run back. */
  private unindex(slot: number): void {
    const mask = this.index.length - 1;
    let i = this.home(slot, mask);
    while (this.index[i] !== slot + 1) i = (i + 1) & mask;
    this.index[i] = 0;
    for (let j = (i + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const other = (this.index[j] as number) - 1;
      const home = this.home(other, mask);
      // Move it into the hole unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        this.index[i] = this.index[j] as number;
        this.index[j] = 0;
        i = j;
      }
    }
  }

  /** Doubles the ring (up to the capacity), oldest first from slot 0, and rebuilds the index. */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(8, this.numbers.length * 2));
    const numbers = new Float64Array(size);
    const middles = new Uint16Array(this.middles.length === 0 ? 0 : size);
    const narrow = this.capacity <= 65_535;
    const prefixOf = narrow ? new Uint16Array(size) : new Uint32Array(size);
    for (let i = 0; i < this.count; i += 1) {
      const slot = (this.head + i) % this.numbers.length;
      numbers[i] = this.numbers[slot] as number;
      if (middles.length > 0) middles[i] = this.middles[slot] as number;
      prefixOf[i] = this.prefixOf[slot] as number;
    }
    this.numbers = numbers;
    this.middles = middles;
    this.prefixOf = prefixOf;
    this.head = 0;
    let indexSize = 16;
    while (indexSize < size * 2) indexSize *= 2;
    this.index = narrow ? new Uint16Array(indexSize) : new Int32Array(indexSize);
    for (let slot = 0; slot < this.count; slot += 1) this.insert(slot);
  }

  private acquire(prefix: string): number {
    let p = this.prefixIds.get(prefix);
    if (p === undefined) {
      p = this.freePrefixes.pop() ?? this.prefixes.length;
      this.prefixes[p] = prefix;
      this.prefixRefs[p] = 0;
      this.prefixIds.set(prefix, p);
    }
    this.prefixRefs[p] = (this.prefixRefs[p] as number) + 1;
    return p;
  }

  private release(p: number): void {
    const refs = (this.prefixRefs[p] as number) - 1;
    this.prefixRefs[p] = refs;
    if (refs > 0) return;
    this.prefixIds.delete(this.prefixes[p] as string);
    this.freePrefixes.push(p);
  }
}

/**
 * `g:gw-1:1234` -> [`g:gw-1`, 0, 1234]; `t:17:1764000000000` -> [`t`, 18, 1764000000000] (a
 * middle number m is kept as m + 1); an id without a number tail -> [id, 0, -1]. join() gives
 * the id back exactly.
 */
function split(id: string): [string, number, number] {
  splitTo(0, id);
  return [PREFIX[0] as string, MIDDLE[0] as number, NUMBER[0] as number];
}

/** The parts of up to two ids being looked at (split ids without an array per id). */
const PREFIX: string[] = ['', ''];
const MIDDLE: number[] = [0, 0];
const NUMBER: number[] = [0, 0];

function setParts(k: number, prefix: string, middle: number, n: number): void {
  PREFIX[k] = prefix;
  MIDDLE[k] = middle;
  NUMBER[k] = n;
}

/** split(id) into the parts at k. */
function splitTo(k: number, id: string): void {
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

/** Whether String(n) is canonical digits split() keeps as a number: up to 15, no sign. */
const tail = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 0 && (n as number) < 1e15;
/** Whether String(n) is a middle number split() keeps: 0..65534. */
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
function splitRecordIds(r: ReadingRecord): number {
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

function join(prefix: string, middle: number, n: number): string {
  if (n < 0) return prefix;
  return middle > 0 ? `${prefix}:${middle - 1}:${n}` : `${prefix}:${n}`;
}

/** Mixes a prefix index, a middle and a number (up to 2^53) into 32 bits (murmur3's finaliser). */
function hash(prefix: number, middle: number, n: number): number {
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
