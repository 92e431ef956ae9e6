import { describe, expect, it } from 'vitest';
import { scoreFromRatio } from '../src/detect/detector.ts';
import { detectorParams } from '../src/detect/rules.ts';
import { make } from './support/detectors.ts';
import { mulberry32 } from './support/synthetic.ts';

const S = 1_000;
const noise = (seed: number) => {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
};

describe('score mapping', () => {
  it('maps statistic / threshold r to r^2 / (1 + r^2): 0.5 at the threshold, monotone', () => {
    expect(scoreFromRatio(0)).toBe(0);
    expect(scoreFromRatio(1)).toBe(0.5);
    expect(scoreFromRatio(2)).toBeCloseTo(0.8, 12);
    expect(scoreFromRatio(Number.POSITIVE_INFINITY)).toBe(1);
    expect(scoreFromRatio(Number.NaN)).toBe(0);
    expect(scoreFromRatio(-3)).toBe(0);
    let previous = 0;
    for (let r = 0.01; r < 1e9; r *= 1.7) {
      expect(scoreFromRatio(r)).toBeGreaterThanOrEqual(previous);
      previous = scoreFromRatio(r);
    }
  });
});

describe('range', () => {
  it('scores 0 inside (bounds included) and at least 0.5 outside', () => {
    const d = make('range', { min: 0, max: 10 });
    expect(d.update(0, 0).score).toBe(0);
    expect(d.update(1, 10).score).toBe(0);
    expect(d.update(2, 10.0001).score).toBeGreaterThanOrEqual(0.5);
    expect(d.update(3, 11)).toEqual({ score: 0.8, statistic: 1 }); // tolerance 10% of 10
    expect(d.update(4, -1).score).toBeCloseTo(0.8, 12);
  });

  it('works with one bound and rejects none or crossed ones', () => {
    expect(make('range', { min: undefined, max: 100 }).update(0, -1e9).score).toBe(0);
    expect(detectorParams('range', {}).errors).toEqual(['params: range needs min, max or both']);
    expect(detectorParams('range', { min: 5, max: 1 }).errors[0]).toMatch(/min is above max/);
  });
});

describe('rate', () => {
  it('against a fixed limit: |change| per second / maxRate', () => {
    const d = make('rate', { maxRate: 1 });
    expect(d.update(0, 0).score).toBe(0);
    expect(d.update(10 * S, 10)).toEqual({ score: 0.5, statistic: 1 });
    expect(d.update(11 * S, 8).statistic).toBe(2);
  });

  it('learns the typical rate and flags a jump many times larger', () => {
    const d = make('rate');
    const n = noise(1);
    const quiet = Array.from({ length: 200 }, (_, i) => d.update(i * 60 * S, 20 + n()).score);
    expect(Math.max(...quiet)).toBeLessThan(0.5);
    expect(d.update(200 * 60 * S, 40).score).toBeGreaterThan(0.8);
  });
});

describe('flatline', () => {
  it('reaches 0.5 at minCount equal readings and drops to 0 on a change', () => {
    const d = make('flatline', { minCount: 10 });
    const scores = Array.from({ length: 12 }, (_, i) => d.update(i * S, 7).score);
    expect(scores[0]).toBe(0);
    expect(scores[8]).toBeLessThan(0.5);
    expect(scores[9]).toBe(0.5);
    expect(scores[11]).toBeGreaterThan(0.5);
    expect(d.update(12 * S, 7.5)).toEqual({ score: 0, statistic: 1 });
  });

  it('honours the tolerance (against the run start, so a slow drift breaks the run)', () => {
    const d = make('flatline', { minCount: 3, tolerance: 0.1 });
    d.update(0, 1);
    d.update(S, 1.05);
    expect(d.update(2 * S, 0.95).score).toBe(0.5);
    expect(d.update(3 * S, 1.15).statistic).toBe(1);
  });

  it('also needs minDurationMs when set', () => {
    const d = make('flatline', { minCount: 2, minDurationMs: 10 * S });
    d.update(0, 3);
    expect(d.update(S, 3).score).toBeLessThan(0.05);
    expect(d.update(10 * S, 3).score).toBe(0.5);
  });
});

describe('zscore', () => {
  it('says nothing during warm-up, then flags an outlier', () => {
    const d = make('zscore', { warmup: 20 });
    const n = noise(2);
    const warm = Array.from({ length: 20 }, (_, i) => d.update(i, 10 + n()));
    expect(warm.every((s) => s.score === 0)).toBe(true);
    for (let i = 20; i < 200; i += 1) d.update(i, 10 + n());
    const spike = d.update(200, 18);
    expect(spike.statistic).toBeGreaterThan(6);
    expect(spike.score).toBeGreaterThan(0.65);
  });

  it('does not learn an outlier, so the next one is still seen', () => {
    const d = make('zscore');
    const n = noise(3);
    for (let i = 0; i < 200; i += 1) d.update(i, n());
    const a = d.update(200, 50).statistic;
    const b = d.update(201, 50).statistic;
    expect(b).toBeCloseTo(a, 6);
  });

  it('accepts a lasting change as the new normal after acceptAfter readings in alarm', () => {
    const d = make('zscore', { acceptAfter: 50 });
    const n = noise(4);
    for (let i = 0; i < 200; i += 1) d.update(i, n());
    const scores = Array.from({ length: 200 }, (_, i) => d.update(200 + i, 20 + n()).score);
    expect(scores[0]).toBeGreaterThan(0.9);
    expect(Math.max(...scores.slice(100))).toBeLessThan(0.5);
  });
});

describe('robust-zscore', () => {
  it('uses the median and MAD of the window, so earlier outliers do not mask the next', () => {
    const d = make('robust-zscore', { window: 30 });
    const n = noise(5);
    for (let i = 0; i < 30; i += 1) d.update(i, i % 10 === 0 ? 1_000 : n());
    expect(d.update(30, 8).score).toBeGreaterThan(0.5);
  });

  it('copes with a constant window (MAD 0) through the mean absolute deviation', () => {
    const d = make('robust-zscore', { window: 10, warmup: 5 });
    for (let i = 0; i < 10; i += 1) d.update(i, i === 3 ? 5.1 : 5);
    const s = d.update(10, 5.2);
    expect(Number.isFinite(s.statistic)).toBe(true);
    expect(s.score).toBeGreaterThan(0.5);
    expect(d.update(11, 5).score).toBe(0);
  });
});

function shiftScores(kind: 'ewma' | 'cusum' | 'zscore', seed: number) {
  const d = make(kind);
  const n = noise(seed);
  for (let i = 0; i < 300; i += 1) d.update(i, n());
  return Array.from({ length: 60 }, (_, i) => d.update(300 + i, 1.5 + n()).score);
}

describe('ewma and cusum', () => {
  it('catch a sustained 1.5 sigma shift that the z-score hardly sees', () => {
    for (const seed of [11, 12, 13]) {
      expect(Math.max(...shiftScores('ewma', seed))).toBeGreaterThanOrEqual(0.5);
      expect(Math.max(...shiftScores('cusum', seed))).toBeGreaterThanOrEqual(0.5);
      const z = shiftScores('zscore', seed);
      expect(z.filter((s) => s >= 0.5).length).toBeLessThan(5);
    }
  });

  it('cusum caps its sums at 2h (score 0.8) and comes back soon after the shift ends', () => {
    const d = make('cusum');
    const n = noise(14);
    for (let i = 0; i < 300; i += 1) d.update(i, n());
    const during = Array.from({ length: 100 }, (_, i) => d.update(300 + i, 3 + n()).score);
    expect(Math.max(...during)).toBeCloseTo(0.8, 12);
    const after = Array.from({ length: 60 }, (_, i) => d.update(400 + i, n()).score);
    expect(Math.max(...after.slice(40))).toBeLessThan(0.3);
  });
});

describe('heartbeat', () => {
  function learned() {
    const d = make('heartbeat', { warmup: 5 });
    for (let i = 0; i <= 10; i += 1) d.update(i * 60 * S, 1);
    return d; // last reading at 600 s, cadence 60 s
  }

  it('scores silence against factor x the learned cadence: 0.5 at three missed intervals', () => {
    const d = learned();
    expect(d.tick?.(600 * S + 60 * S).score).toBeCloseTo(0.1, 12);
    expect(d.tick?.(600 * S + 180 * S)).toEqual({ score: 0.5, statistic: 180 * S });
    expect(d.tick?.(600 * S + 600 * S).score).toBeGreaterThan(0.9);
  });

  it('marks the reading that ends an outage, and does not learn the outage as the cadence', () => {
    const d = learned();
    expect(d.update(600 * S + 3_600 * S, 1).score).toBeGreaterThan(0.95);
    expect(d.update(600 * S + 3_660 * S, 1).score).toBeLessThan(0.2);
    expect(d.tick?.(600 * S + 3_660 * S + 180 * S).score).toBeLessThan(0.55);
  });

  it('says nothing before it has learned the cadence, unless expectedMs is given', () => {
    expect(make('heartbeat').tick?.(1e12).score).toBe(0);
    const d = make('heartbeat');
    d.update(0, 1);
    expect(d.tick?.(10 * 60 * S).score).toBe(0);
    const fixed = make('heartbeat', { expectedMs: 60 * S });
    fixed.update(0, 1);
    expect(fixed.tick?.(180 * S).score).toBe(0.5);
  });
});
