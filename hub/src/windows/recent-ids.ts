import type { ReadingRecord } from '@iot-stream/contracts';
import { hash, join, MIDDLE, NUMBER, PREFIX, splitRecordIds, splitTo } from './id-parts.ts';
import { IdPacker, isPacked, type PackedIds, unpackIds } from './packed-ids.ts';
import { ringArrays } from './ring-arrays.ts';
import { type IdTimes, SlotTimes, UNKNOWN } from './slot-times.ts';

export { recordIds } from './id-parts.ts';
export type { PackedIds } from './packed-ids.ts';

/**
 * A bounded set of recently seen ids, forgetting the oldest first (FIFO). Used per device to
 * recognise a record that arrives twice. Insertion order is the only order, so eviction is
 * deterministic and the snapshot (oldest first) restores the same set.
 *
 * Memory (it is most of what the hub keeps per device): an id `g:gw-1:1234` is kept as its
 * prefix `g:gw-1`, stored once for all the ids that share it, and its number 1234, in typed
 * arrays that grow to the capacity, with an open-addressing index over them: about 12 bytes an
 * id instead of about 70 for a string in a Set (test/bench/hub-state.ts). A small number
 * before the last one is kept apart too (`t:17:1764000000000`, a device's seq and event time
 * when it sends no session: prefix `t`, 17 and the time), else every id would have a prefix
 * of its own. The numbers are kept in 32 bits as offsets from a base per prefix (the ids held
 * of one prefix are close together: a gateway's recent seqs, a device's recent times), moved
 * when they drift past it, in 64 bits only if one prefix's numbers ever span 2^32 at once.
 *
 * Ids added with their record's event time are also forgotten, oldest first, once that time
 * is behind a horizon the caller moves on (`forgetBefore`: the windows' too-late line, past
 * which a repeat is refused as too late anyway): a device sending every 10 s holds ~130 ids
 * instead of the capacity's 512. Times are whole seconds from the first one, rounded up, so an
 * id is only forgotten once its record's time is surely behind the horizon.
 */
export class RecentIds {
  /**
   * The ring, `allocated` slots, the oldest at `head`: each id's number (its offset from its
   * prefix's base, or the number itself once `wide`) and prefix index.
   */
  private numbers: Uint32Array | Float64Array = new Uint32Array(0);
  /** The numbers are held as they are (64 bits), no longer as offsets. */
  private wide = false;
  /**
   * Per slot, the small number before the last one, plus 1 (0: none; see splitTo); empty until
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
  /** Per slot, its record's event time, when ids come with one (slot-times.ts). */
  private readonly times = new SlotTimes();
  private head = 0;
  private count = 0;
  private readonly prefixes: string[] = [];
  private readonly prefixIds = new Map<string, number>();
  private readonly prefixRefs: number[] = [];
  /** Per prefix index: what its ids' numbers are offsets from. */
  private readonly bases: number[] = [];
  private readonly freePrefixes: number[] = [];

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    splitTo(0, id);
    const p = this.prefixIds.get(PREFIX[0] as string);
    return p !== undefined && this.find(p, MIDDLE[0] as number, NUMBER[0] as number) >= 0;
  }

  /** Adds an id; `time`, its record's event time, lets forgetBefore drop it (restore). */
  add(id: string, time?: number): void {
    splitTo(0, id);
    this.addSplit(PREFIX[0] as string, MIDDLE[0] as number, NUMBER[0] as number, time);
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
    return this.seenOrAddSplit(splitRecordIds(r), r.time);
  }

  /**
   * Forgets, oldest first, the ids whose record's event time is before `horizon` (ms), up to
   * the first one that is not (or has no time): ids arrive about in time order, and one held
   * longer than needed only costs its bytes.
   */
  forgetBefore(horizon: number): void {
    while (this.count > 0) {
      const slot = this.head;
      if (!this.times.before(slot, horizon)) return;
      this.unindex(slot);
      this.release(this.prefixOf[slot] as number);
      this.head = (this.head + 1) % this.numbers.length;
      this.count -= 1;
    }
  }

  private seenOrAddSplit(ids: number, time?: number): boolean {
    for (let k = 0; k < ids; k += 1) {
      const p = this.prefixIds.get(PREFIX[k] as string);
      if (p !== undefined && this.find(p, MIDDLE[k] as number, NUMBER[k] as number) >= 0)
        return true;
    }
    for (let k = 0; k < ids; k += 1)
      this.addSplit(PREFIX[k] as string, MIDDLE[k] as number, NUMBER[k] as number, time);
    return false;
  }

  private addSplit(prefix: string, middle: number, n: number, time?: number): void {
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
    const p = this.acquire(prefix, n);
    this.store(slot, p, n);
    if (middle > 0 && this.middles.length === 0)
      this.middles = new Uint16Array(this.numbers.length);
    if (this.middles.length > 0) this.middles[slot] = middle;
    this.times.set(slot, time, this.numbers.length);
    this.prefixOf[slot] = p;
    this.insert(slot);
  }

  get size(): number {
    return this.count;
  }

  snapshot(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const slot = this.slotAt(i);
      const prefix = this.prefixes[this.prefixOf[slot] as number] as string;
      out.push(join(prefix, this.middle(slot), this.number(slot)));
    }
    return out;
  }

  /** The held ids as numbers (packed-ids.ts), oldest first as in snapshot(). */
  snapshotPacked(): PackedIds {
    const packer = new IdPacker(this.middles.length > 0);
    for (let i = 0; i < this.count; i += 1) {
      const slot = this.slotAt(i);
      const own = this.prefixOf[slot] as number;
      packer.add(own, this.prefixes, this.middle(slot), this.number(slot));
    }
    return packer.result();
  }

  /** The held ids' times, oldest first as in snapshot(); undefined when none has one. */
  snapshotTimes(): IdTimes | undefined {
    const from = this.times.base;
    if (from === undefined) return undefined;
    const seconds: number[] = [];
    for (let i = 0; i < this.count; i += 1) seconds.push(this.times.of(this.slotAt(i)));
    return { from, seconds };
  }

  /**
   * From snapshot() and snapshotTimes(). Ids without a time (a snapshot from before times were
   * kept) take `otherwise`: a time no earlier than theirs (the device's newest event time).
   */
  static restore(
    capacity: number,
    ids: readonly string[] | PackedIds,
    times?: IdTimes,
    otherwise?: number,
  ): RecentIds {
    const set = new RecentIds(capacity);
    // The same base as the snapshot's, held or not: later ids' seconds round alike.
    set.times.base = times?.from;
    const from = times?.from ?? 0;
    const timeOf = (i: number) => {
      const seconds = times?.seconds[i];
      if (seconds === undefined) return otherwise;
      return seconds === UNKNOWN ? undefined : from + seconds * 1000;
    };
    if (!isPacked(ids)) {
      ids.forEach((id, i) => {
        set.add(id, timeOf(i));
      });
      return set;
    }
    unpackIds(ids, (prefix, middle, n, i) => set.addSplit(prefix, middle, n, timeOf(i)));
    return set;
  }

  private find(prefix: number, middle: number, n: number): number {
    const mask = this.index.length - 1;
    if (mask < 0) return -1;
    for (let i = hash(prefix, middle, n) & mask; ; i = (i + 1) & mask) {
      const entry = this.index[i] as number;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (this.prefixOf[slot] === prefix && this.number(slot) === n && this.middle(slot) === middle)
        return slot;
    }
  }

  /** The slot of the i-th oldest id held. */
  private slotAt(i: number): number {
    return (this.head + i) % this.numbers.length;
  }

  /** The number of the id in `slot`. */
  private number(slot: number): number {
    const held = this.numbers[slot] as number;
    return this.wide ? held : held + (this.bases[this.prefixOf[slot] as number] as number);
  }

  /** Puts n, of prefix p, in `slot` (its prefix still the old one's: set after). */
  private store(slot: number, p: number, n: number): void {
    if (!this.wide) {
      const offset = n - (this.bases[p] as number);
      if (offset >= 0 && offset <= MAX_OFFSET) {
        this.numbers[slot] = offset;
        return;
      }
      if (this.rebase(p, n, slot)) {
        this.numbers[slot] = n - (this.bases[p] as number);
        return;
      }
      this.widen();
    }
    this.numbers[slot] = n;
  }

  /**
   * Moves prefix p's base so that its held numbers and n all fit (the slot `except` is being
   * overwritten); false when they span too much for 32 bits.
   */
  private rebase(p: number, n: number, except: number): boolean {
    const held: number[] = [];
    let min = n;
    let max = n;
    for (let i = 0; i < this.count; i += 1) {
      const slot = this.slotAt(i);
      if (slot === except || this.prefixOf[slot] !== p) continue;
      const v = this.number(slot);
      held.push(slot);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const base = Math.floor((min + max) / 2) - HALF;
    if (min - base < 0 || max - base > MAX_OFFSET) return false;
    const old = this.bases[p] as number;
    for (const slot of held) this.numbers[slot] = (this.numbers[slot] as number) + old - base;
    this.bases[p] = base;
    return true;
  }

  /** From offsets to the numbers themselves, for good. */
  private widen(): void {
    const numbers = new Float64Array(this.numbers.length);
    for (let i = 0; i < this.count; i += 1) {
      const slot = this.slotAt(i);
      numbers[slot] = this.number(slot);
    }
    this.numbers = numbers;
    this.wide = true;
  }

  private middle(slot: number): number {
    return this.middles.length === 0 ? 0 : (this.middles[slot] as number);
  }

  /** The index position an id held in `slot` hashes to. */
  private home(slot: number, mask: number): number {
    const prefix = this.prefixOf[slot] as number;
    return hash(prefix, this.middle(slot), this.number(slot)) & mask;
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

  /**
   * Grows the ring by half (up to the capacity), oldest first from slot 0, and rebuilds the
   * index: a device held to its recent records by forgetBefore needs a little more than a
   * power of two as often as not (~130 ids every 10 s).
   */
  private grow(): void {
    const size = Math.min(this.capacity, Math.max(8, Math.ceil(this.numbers.length * 1.5)));
    const withMiddles = this.middles.length > 0;
    const { numbers, seconds, prefixOf, index, middles } = ringArrays({
      size,
      wide: this.wide,
      narrow: this.capacity <= 65_535,
      times: this.times.inUse,
      middles: withMiddles,
    });
    if (seconds) this.times.regrow(this.count, (i) => this.slotAt(i), seconds);
    for (let i = 0; i < this.count; i += 1) {
      const slot = this.slotAt(i);
      numbers[i] = this.numbers[slot] as number;
      if (withMiddles) middles[i] = this.middles[slot] as number;
      prefixOf[i] = this.prefixOf[slot] as number;
    }
    this.numbers = numbers;
    this.middles = middles;
    this.prefixOf = prefixOf;
    this.head = 0;
    this.index = index;
    for (let slot = 0; slot < this.count; slot += 1) this.insert(slot);
  }

  /** The prefix's index (a new prefix's base puts `n` mid-range), one more id holding it. */
  private acquire(prefix: string, n: number): number {
    let p = this.prefixIds.get(prefix);
    if (p === undefined) {
      p = this.freePrefixes.pop() ?? this.prefixes.length;
      this.prefixes[p] = prefix;
      this.prefixRefs[p] = 0;
      this.bases[p] = n - HALF;
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

/** Offsets are 32-bit: 0 .. 2^32 - 1, a new base 2^31 below the number that set it. */
const MAX_OFFSET = 2 ** 32 - 1;
const HALF = 2 ** 31;
