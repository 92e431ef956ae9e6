import { describe, expect, it } from 'vitest';
import type { Detector } from '../src/detect/detector.ts';
import { NoveltyDetector } from '../src/detect/novelty.ts';
import { detectorParams } from '../src/detect/rules.ts';
import { mulberry32 } from './support/synthetic.ts';

// The default detector: calibrated (normal data of any kind rarely reaches 0.5), finds what is
// new in a series' shape, adapts to what lasts, and restores exactly.

const novelty = (params: Record<string, unknown> = {}) =>
  new NoveltyDetector(detectorParams('novelty', params).params as never);

function noise(seed: number) {
  const rnd = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
}

function scores(d: Detector, values: readonly number[]): number[] {
  return values.map((v, i) => d.update(i * 60_000, v).score);
}

/** Readings at which the score crosses 0.5 (alerts). */
const alerts = (s: readonly number[]) =>
  s.flatMap((x, i) => (x >= 0.5 && (i === 0 || (s[i - 1] as number) < 0.5) ? [i] : []));

describe('novelty detector', () => {
  it('is calibrated: on normal data of many kinds a score >= 0.5 is rare', () => {
    const g = noise(1);
    let walk = 0;
    let ar = 0;
    const kinds: Record<string, (i: number) => number> = {
      gaussian: () => g(),
      'random walk': () => {
        walk += g();
        return walk;
      },
      'AR(1) 0.99': () => {
        ar = 0.99 * ar + g();
        return ar;
      },
      'daily wave + noise': (i) => 10 * Math.sin(i / 229) + g(),
      'quantised temperature': (i) => Math.round((20 + Math.sin(i / 500) + 0.1 * g()) * 10) / 10,
      'on/off every 50': (i) => (Math.floor(i / 50) % 2) * 100 + g(),
      constant: () => 5,
      counter: (i) => i,
    };
    for (const [name, gen] of Object.entries(kinds)) {
      const s = scores(
        novelty(),
        Array.from({ length: 10_000 }, (_, i) => gen(i)),
      );
      const high = s.filter((x) => x >= 0.5).length / s.length;
      expect(high, name).toBeLessThan(0.001);
      expect(alerts(s).length, name).toBeLessThanOrEqual(2);
    }
  });

  it('finds a spike, a level shift, a stuck sensor and a change of rhythm, once each', () => {
    const cases: Record<string, (i: number, g: () => number) => number> = {
      spike: (i, g) => (i === 1500 ? 15 : 0) + g(),
      shift: (i, g) => (i >= 1500 ? 15 : 0) + g(),
      stuck: (i, g) => (i >= 1500 && i < 1600 ? 3 : 10 * Math.sin(i / 20) + 0.3 * g()),
      rhythm: (i, g) => 10 * Math.sin(i / (i >= 1500 ? 7 : 20)) + 0.3 * g(),
    };
    for (const [name, gen] of Object.entries(cases)) {
      const g = noise(7);
      const s = scores(
        novelty(),
        Array.from({ length: 2500 }, (_, i) => gen(i, g)),
      );
      const a = alerts(s);
      expect(a.length, `${name}: ${a}`).toBeGreaterThanOrEqual(1);
      expect(a[0] as number, name).toBeGreaterThanOrEqual(1500);
      expect(a[0] as number, name).toBeLessThan(1530); // within a shape of the change
      expect(a.length, `${name}: ${a}`).toBeLessThanOrEqual(2);
    }
  });

  it('adapts: a lasting change is the new normal a shape and a few neighbours later', () => {
    const g = noise(3);
    const s = scores(
      novelty(),
      Array.from({ length: 3000 }, (_, i) => (i >= 1500 ? 50 : 0) + g()),
    );
    expect(alerts(s)[0]).toBe(1500);
    const after = s.slice(1500 + 19 + 10 + 1);
    expect(Math.max(...after)).toBeLessThan(0.5);
  });

  it('stays quiet while warming up, and cools down after an alert unless something stronger comes', () => {
    const g = noise(5);
    const values = Array.from(
      { length: 1200 },
      (_, i) => (i === 600 ? 30 : i === 650 ? 300 : 0) + g(),
    );
    const s = scores(novelty({ cooldown: 120 }), values);
    expect(s.slice(0, 200 + 2 * 18).every((x) => x === 0)).toBe(true);
    expect(alerts(s)).toEqual([600, 650]);
    const raw = scores(novelty({ cooldown: 0 }), values);
    // The same readings without a cooldown: the event's tail reaches further up.
    const tail = (x: number[]) => Math.max(...x.slice(601, 640));
    expect(tail(s)).toBeLessThanOrEqual(tail(raw) / 2 + 1e-12);
  });

  it('restores exactly from a JSON snapshot, with bounded state', () => {
    const g = noise(11);
    const values = Array.from(
      { length: 4000 },
      (_, i) => Math.sin(i / 30) * 5 + g() + (i === 3000 ? 20 : 0),
    );
    const a = novelty();
    const first = scores(a, values.slice(0, 2200));
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = novelty();
    b.restore(snap);
    const rest = values.slice(2200);
    const fromA = rest.map((v, i) => a.update((2200 + i) * 60_000, v).score);
    const fromB = rest.map((v, i) => b.update((2200 + i) * 60_000, v).score);
    expect(fromB).toEqual(fromA);
    expect(first.length + fromA.length).toBe(4000);
    const size = JSON.stringify(a.snapshot()).length;
    expect(size).toBeLessThan(40_000);
    for (const v of values) a.update(0, v);
    expect(JSON.stringify(a.snapshot()).length).toBeLessThan(size + 30); // bounded: no growth
    expect(() => novelty({ history: 500 }).restore(snap)).toThrow(/history/);
  });

  it('ignores values that are not finite', () => {
    const d = novelty();
    expect(d.update(0, Number.NaN)).toEqual({ score: 0, statistic: 0 });
    expect(d.update(0, Number.POSITIVE_INFINITY).score).toBe(0);
  });
});
