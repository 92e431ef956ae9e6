import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/detect/floats.ts';
import { DETECTORS } from '../src/detect/registry.ts';
import { detectorParams } from '../src/detect/rules.ts';
import { ZScoreDetector } from '../src/detect/zscore.ts';
import { mulberry32 } from './support/synthetic.ts';

// The tail gate calibrates zscore and robust-zscore against the series' own behaviour: 0.5
// needs the threshold AND a statistic reached by at most 1% of the last ~2,000.

const make = (kind: 'zscore' | 'robust-zscore') =>
  DETECTORS[kind].create(detectorParams(kind, {}).params);

function noise(seed: number, heavy: boolean) {
  const rnd = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  return heavy ? () => g() / Math.sqrt((g() ** 2 + g() ** 2) / 2) : g; // Student t(2)
}

const high = (d: { update(t: number, v: number): { score: number } }, values: number[]) =>
  values.filter((v, i) => d.update(i * 60_000, v).score >= 0.5).length;

describe('tail gate (zscore, robust-zscore)', () => {
  it('stops the flood on heavy-tailed data, where the raw threshold is crossed all the time', () => {
    const g = noise(1, true);
    const values = Array.from({ length: 20_000 }, g);
    const raw = high(new ZScoreDetector(detectorParams('zscore', {}).params as never), values);
    for (const kind of ['zscore', 'robust-zscore'] as const) {
      const gated = high(make(kind), values);
      expect(gated, kind).toBeLessThan(values.length * 0.01);
    }
    expect(raw).toBeGreaterThan(values.length * 0.01); // the flood it stops
  });

  it('leaves Gaussian data with rare spikes as it was: every spike still scores 0.5', () => {
    const g = noise(2, false);
    const values = Array.from({ length: 6000 }, (_, i) => (i % 1500 === 750 ? 12 : 0) + g());
    for (const kind of ['zscore', 'robust-zscore'] as const) {
      const d = make(kind);
      const spikes = values.flatMap((v, i) => (d.update(i * 60_000, v).score >= 0.5 ? [i] : []));
      expect(spikes, kind).toEqual([750, 2250, 3750, 5250]);
    }
  });

  it('restores exactly, and from a checkpoint of a hub before the gate', () => {
    const g = noise(3, true);
    const values = Array.from({ length: 5000 }, g);
    const a = make('zscore');
    for (const v of values.slice(0, 3000)) a.update(0, v);
    const b = make('zscore');
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const rest = values.slice(3000);
    expect(rest.map((v) => b.update(0, v).score)).toEqual(rest.map((v) => a.update(0, v).score));
    const old = new ZScoreDetector(detectorParams('zscore', {}).params as never);
    for (const v of values.slice(0, 100)) old.update(0, v);
    const c = make('zscore');
    expect(() => c.restore(old.snapshot())).not.toThrow();
  });

  it('saves all 120 bins (older hubs read only those) and restores from the bins reached', () => {
    const g = noise(4, false);
    const values = Array.from({ length: 3000 }, g);
    const a = make('robust-zscore');
    for (const v of values.slice(0, 2000)) a.update(0, v);
    const saved = JSON.parse(JSON.stringify(a.snapshot())) as { bins: string };
    const bins = fromBase64(saved.bins);
    expect(bins.length).toBe(120);
    const reached = bins.findLastIndex((b) => b !== 0) + 1;
    expect(reached).toBeGreaterThan(3);
    expect(reached).toBeLessThan(40); // Gaussian statistics stay in the first octaves
    // A snapshot without the trailing zeros restores the same state.
    const b = make('robust-zscore');
    b.restore({ ...saved, bins: toBase64(bins.subarray(0, reached)) });
    expect(b.snapshot()).toEqual(a.snapshot());
    const rest = values.slice(2000);
    expect(rest.map((v) => b.update(0, v).score)).toEqual(rest.map((v) => a.update(0, v).score));
    // More bins than the gate has: refused, as any state of another shape.
    const c = make('robust-zscore');
    expect(() => c.restore({ ...saved, bins: toBase64(new Float64Array(121)) })).toThrow(/120/);
  });
});
