import type { ReadingRecord } from '@iot-stream/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIds, recordIds } from '../src/windows/recent-ids.ts';
import { mulberry32 } from './support/synthetic.ts';

// RecentIds keeps ids as (prefix, number) in typed arrays to save memory; it must behave
// exactly like the plain Set of strings it replaced (kept here as the oracle): the same answers,
// the same evictions, the same snapshot, so checkpoints and outputs do not change.

/** The previous implementation: a Set of the id strings and a FIFO ring of them. */
class StringRecentIds {
  private readonly ids = new Set<string>();
  /** The same ids in insertion order, as a ring (the oldest at `head`): no iterator per eviction. */
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    const size = this.ids.size;
    this.ids.add(id); // one hash lookup instead of has() + add()
    if (this.ids.size === size) return; // already there
    if (this.capacity < 1) {
      this.ids.delete(id);
      return;
    }
    if (this.order.length < this.capacity) {
      this.order.push(id);
      return;
    }
    // Full: the new id takes the oldest one's place in the ring.
    this.ids.delete(this.order[this.head] as string);
    this.order[this.head] = id;
    this.head = (this.head + 1) % this.capacity;
  }

  get size(): number {
    return this.ids.size;
  }

  snapshot(): string[] {
    return this.head === 0
      ? [...this.order]
      : [...this.order.slice(this.head), ...this.order.slice(0, this.head)];
  }

  static restore(capacity: number, ids: readonly string[]): RecentIds {
    const set = new RecentIds(capacity);
    for (const id of ids) set.add(id);
    return set;
  }
}

const ids = fc.oneof(
  fc.tuple(fc.constantFrom('gw-1', 'gw-2', 'a:b'), fc.nat(3000)).map(([g, n]) => `g:${g}:${n}`),
  fc.tuple(fc.nat(3), fc.nat(70_000)).map(([s, n]) => `s:${s}:${n}`),
  fc.tuple(fc.nat(5), fc.integer({ min: 1.7e12, max: 1.8e12 })).map(([q, t]) => `t:${q}:${t}`),
  // Seq before the time (devices without a session), also where 16 bits end.
  fc
    .tuple(fc.constantFrom(0, 1, 65_533, 65_534, 65_535, 65_536, 99_999), fc.nat(4))
    .map(([q, t]) => `t:${q}:${t}`),
  fc.constantFrom('x', 'g:gw-1:007', 'g:gw-1:-1', 'g:gw-1:', ':5', 'g:gw-1:9007199254740993'),
  fc.constantFrom('x:007:5', 'x::5', ':1:2', '1:2', 'a:b:c:1:2', 'a:01:2', 't:5:', 't:5:-1'),
);

/** Adds `list` to a RecentIds and to the Set it replaced: the same answers, evictions, snapshot. */
function expectLikeSet(capacity: number, list: readonly string[]): void {
  const compact = new RecentIds(capacity);
  const oracle = new StringRecentIds(capacity);
  for (const id of list) {
    expect(compact.has(id)).toBe(oracle.has(id));
    compact.add(id);
    oracle.add(id);
    expect(compact.size).toBe(oracle.size);
  }
  expect(compact.snapshot()).toEqual(oracle.snapshot());
  // From its strings and from its numbers (the checkpoints' form since 2026-12-05).
  for (const held of [compact.snapshot(), compact.snapshotPacked()]) {
    const restored = RecentIds.restore(capacity, held);
    expect(restored.snapshot()).toEqual(oracle.snapshot());
    for (const id of list) expect(restored.has(id)).toBe(oracle.has(id));
  }
}

describe('RecentIds', () => {
  it('answers, evicts and snapshots exactly like a Set of strings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(ids, { maxLength: 400 }),
        (capacity, list) => expectLikeSet(capacity, list),
      ),
      { numRuns: 300 },
    );
  });

  it("seenOrAdd of a record's ids is has of each, then add of each when none is held", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.array(ids, { minLength: 1, maxLength: 3 }), { maxLength: 200 }),
        (capacity, records) => {
          const compact = new RecentIds(capacity);
          const oracle = new StringRecentIds(capacity);
          for (const record of records) {
            const seen = record.some((id) => oracle.has(id));
            if (!seen) for (const id of record) oracle.add(id);
            expect(compact.seenOrAdd(record)).toBe(seen);
          }
          expect(compact.snapshot()).toEqual(oracle.snapshot());
        },
      ),
      { numRuns: 300 },
    );
  });

  it("seenOrAddRecord is seenOrAdd of the record's id strings, for any field values", () => {
    const nat = (max: number) => fc.integer({ min: 0, max });
    const edgy = fc.oneof(
      nat(70_000),
      fc.constantFrom(65_534, 65_535, 99_999, 1e15 - 1, 1e15, 2 ** 53),
      fc.double(),
    );
    const record = fc.record(
      {
        gatewayId: fc.oneof(
          fc.constantFrom('gw-1', 'gw:7', '17', '65535', '', 'a:b:3'),
          fc.string(),
        ),
        gatewaySeq: fc.oneof(nat(50), edgy),
        session: fc.oneof(nat(3), fc.constantFrom(65_534, 65_535, 2 ** 32 - 1, -1, 1.5)),
        seq: fc.oneof(nat(40), edgy, fc.constant(-2)),
        time: fc.oneof(nat(30), fc.constant(1_764_000_000_000), edgy),
      },
      { requiredKeys: ['gatewayId', 'gatewaySeq', 'time'] },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.array(record, { maxLength: 150 }),
        (capacity, partials) => {
          const records = partials.map(
            (p) => ({ v: 1, deviceId: 'd', receivedAt: 0, metrics: {}, ...p }) as ReadingRecord,
          );
          const oracle = new StringRecentIds(capacity);
          /** Feeds every record to `set` and the oracle: the same answers, the same ids kept. */
          const feed = (set: RecentIds) => {
            for (const r of records) {
              const ids = recordIds(r);
              const seen = ids.some((id) => oracle.has(id));
              if (!seen) for (const id of ids) oracle.add(id);
              expect(set.seenOrAddRecord(r)).toBe(seen);
            }
            expect(set.snapshot()).toEqual(oracle.snapshot());
          };
          const fast = new RecentIds(capacity);
          feed(fast);
          feed(RecentIds.restore(capacity, fast.snapshotPacked())); // as after a checkpoint
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps numbers that drift past 32 bits, jump, or span more (rebased, then 64-bit)', () => {
    // Each prefix's numbers as a walk: small steps, steps near 2^31 and 2^32 (a base moves),
    // and now and then a jump no 32-bit offset can span (the numbers go 64-bit).
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -3, max: 10_000 }) },
      fc.constantFrom(2 ** 29, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 31)),
      fc.constantFrom(2 ** 40, -(2 ** 40), 2 ** 52),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.array(fc.tuple(fc.constantFrom('g:gw-1', 'g:gw-2', 't:7'), step), { maxLength: 300 }),
        (capacity, walk) => {
          const at = new Map<string, number>();
          const list = walk.map(([prefix, d]) => {
            const n = Math.max(0, Math.min(2 ** 53 - 1, (at.get(prefix) ?? 1.7e12) + d));
            at.set(prefix, n);
            return `${prefix}:${n}`;
          });
          expectLikeSet(capacity, list);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stays 32-bit for a device sending for a year (its times drift, its seqs wrap)', () => {
    const set = new RecentIds(512);
    const year = 365 * 24 * 3600_000;
    for (
      let t = 1.7e12, seq = 0, g = 1;
      t < 1.7e12 + year;
      t += 60_000, seq = (seq + 1) % 65_536, g += 1
    ) {
      set.add(`g:gw-1:${g}`);
      set.add(`t:${seq}:${t}`);
    }
    // A private detail, checked because it is the point: 4 bytes a number, not 8.
    expect((set as unknown as { wide: boolean }).wide).toBe(false);
    expect(set.has('t:0:1700000000000')).toBe(false); // long evicted
    expect(set.size).toBe(512);
  });

  it('finds every id it holds after many evictions (the index stays whole)', () => {
    const rnd = mulberry32(11);
    const set = new RecentIds(40);
    const oracle = new StringRecentIds(40);
    for (let i = 0; i < 20_000; i += 1) {
      const id = `g:gw-1:${Math.floor(rnd() * 300)}`;
      expect(set.has(id)).toBe(oracle.has(id));
      set.add(id);
      oracle.add(id);
    }
    const held = set.snapshot();
    expect(held).toEqual(oracle.snapshot());
    expect(held.filter((id) => !set.has(id))).toEqual([]);
  });

  it('holds past 16-bit slot and prefix numbers exactly like the Set (capacities of 65,536 and more)', () => {
    const rnd = mulberry32(5);
    for (const capacity of [65_535, 65_536, 80_000]) {
      const set = new RecentIds(capacity);
      const oracle = new StringRecentIds(capacity);
      for (let i = 0; i < 160_000; i += 1) {
        const id = `${rnd() < 0.3 ? 'g:a' : `s:${i % 90_000}`}:${Math.floor(rnd() * 60_000)}`;
        if (i % 7 === 0) expect(set.has(id)).toBe(oracle.has(id));
        set.add(id);
        oracle.add(id);
      }
      expect(set.snapshot()).toEqual(oracle.snapshot());
    }
  });

  it('forgets ids whose record time is behind the horizon, oldest first, like a timed queue', () => {
    // The spec, written plainly: ids in arrival order with their record's time kept as whole
    // seconds after the first time given, rounded up; forgetBefore(h) drops from the oldest
    // while that kept time is before h, stopping at one without a time; the capacity drops the
    // oldest as before. A snapshot with its times restores the same set, which then goes on
    // answering exactly as the original (a checkpoint changes nothing).
    class TimedOracle {
      queue: { id: string; at: number | undefined }[] = [];
      base: number | undefined;
      constructor(readonly capacity: number) {}
      has(id: string) {
        return this.queue.some((e) => e.id === id);
      }
      add(id: string, time: number | undefined) {
        if (this.capacity < 1 || this.has(id)) return;
        if (time !== undefined && Number.isFinite(time)) this.base ??= time;
        const base = this.base;
        const at =
          time === undefined || base === undefined
            ? undefined
            : base + Math.ceil((time - base) / 1000) * 1000;
        if (this.queue.length === this.capacity) this.queue.shift();
        this.queue.push({ id, at });
      }
      forgetBefore(horizon: number) {
        while (this.queue.length > 0) {
          const at = this.queue[0]?.at;
          if (at === undefined || !(at < horizon)) return;
          this.queue.shift();
        }
      }
    }
    const T0 = 1.76e12;
    const op = fc.oneof(
      fc.record({ add: ids, dt: fc.integer({ min: -20_000, max: 15_000 }), timed: fc.boolean() }),
      fc.record({ forget: fc.integer({ min: -60_000, max: 60_000 }) }),
      fc.record({ restore: fc.constantFrom('strings', 'packed') }), // a checkpoint, either form
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.array(op, { maxLength: 300 }), (cap, ops) => {
        let compact = new RecentIds(cap);
        const oracle = new TimedOracle(cap);
        let clock = T0; // record times drift on with jitter, out of order at times
        for (const o of ops) {
          if ('add' in o) {
            clock += Math.max(0, o.dt);
            const time = o.timed ? clock + Math.min(0, o.dt) : undefined;
            expect(compact.has(o.add)).toBe(oracle.has(o.add));
            compact.add(o.add, time);
            oracle.add(o.add, time);
          } else if ('forget' in o) {
            compact.forgetBefore(clock + o.forget);
            oracle.forgetBefore(clock + o.forget);
          } else {
            const times = compact.snapshotTimes();
            const held = o.restore === 'packed' ? compact.snapshotPacked() : compact.snapshot();
            compact = RecentIds.restore(cap, held, times);
          }
          expect(compact.size).toBe(oracle.queue.length);
        }
        expect(compact.snapshot()).toEqual(oracle.queue.map((e) => e.id));
        const times = compact.snapshotTimes();
        const kept = oracle.queue.map((e) => e.at);
        if (times)
          expect(
            times.seconds.map((sec) => (sec === 2 ** 31 - 1 ? undefined : times.from + sec * 1000)),
          ).toEqual(kept);
        else expect(kept.every((at) => at === undefined)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('never forgets an id whose record time is not behind the horizon, even at extreme times', () => {
    const set = new RecentIds(16);
    set.add('g:gw:1', 1.7e12);
    set.add('g:gw:2', -1e300); // clamped: kept as far later than it is
    set.add('g:gw:3', 1e300); // beyond what 32 bits of seconds hold: never forgotten by time
    set.add('g:gw:4', 1.7e12 + 999.5);
    set.forgetBefore(1.7e12); // nothing is behind: g:gw:1 is at the horizon
    expect(set.size).toBe(4);
    set.forgetBefore(1.7e12 + 1);
    expect(set.has('g:gw:1')).toBe(false);
    expect(set.has('g:gw:2')).toBe(false); // behind any horizon after 68 years before the first
    expect(set.snapshot()).toEqual(['g:gw:3', 'g:gw:4']);
    set.forgetBefore(Number.POSITIVE_INFINITY);
    expect(set.snapshot()).toEqual(['g:gw:3', 'g:gw:4']); // stops at the one it cannot place
    // A snapshot from before times were kept: its ids take the device's newest time.
    const old = RecentIds.restore(16, ['g:gw:7', 'g:gw:8'], undefined, 1.7e12 + 5000);
    old.forgetBefore(1.7e12 + 5000);
    expect(old.size).toBe(2);
    old.forgetBefore(1.7e12 + 5001);
    expect(old.size).toBe(0);
  });

  it('keeps a full device (512 ids) in far less memory than strings would take', () => {
    const set = new RecentIds(512);
    for (let i = 0; i < 2000; i += 1) set.add(`g:gateway-7:${1_000_000 + i * 37}`);
    expect(set.size).toBe(512);
    expect(set.has(`g:gateway-7:${1_000_000 + 1999 * 37}`)).toBe(true);
    expect(set.has(`g:gateway-7:${1_000_000 + 1000 * 37}`)).toBe(false); // evicted
    expect(set.snapshot()[0]).toBe(`g:gateway-7:${1_000_000 + (2000 - 512) * 37}`);
  });
});
