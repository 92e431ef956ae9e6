import { describe, expect, it } from 'vitest';
import { createFleet, nextReading } from '../src/index.ts';

describe('virtual fleet', () => {
  it('is reproducible with the same seed', () => {
    const a = createFleet({ devices: 3, seed: 42, prefix: 'd-' });
    const b = createFleet({ devices: 3, seed: 42, prefix: 'd-' });
    const ra = a.map((d) => nextReading(d, 1_000));
    const rb = b.map((d) => nextReading(d, 1_000));
    expect(ra).toEqual(rb);
    expect(a.map((d) => d.id)).toEqual(['d-001', 'd-002', 'd-003']);
  });

  it('gives strictly increasing event times and wrapping 16-bit sequence numbers', () => {
    const [device] = createFleet({ devices: 1, seed: 1, prefix: 'd-' });
    if (!device) throw new Error('no device');
    device.seq = 0xfffe;
    const r1 = nextReading(device, 5);
    const r2 = nextReading(device, 5);
    const r3 = nextReading(device, 4);
    expect([r1.seq, r2.seq, r3.seq]).toEqual([0xfffe, 0xffff, 0]);
    expect(r2.time).toBeGreaterThan(r1.time);
    expect(r3.time).toBeGreaterThan(r2.time);
  });

  it('produces plausible values with SenML units', () => {
    const [device] = createFleet({ devices: 1, seed: 7, prefix: 'd-' });
    if (!device) throw new Error('no device');
    for (let i = 0; i < 100; i += 1) {
      const r = nextReading(device, i * 60_000);
      expect(r.metrics.temperature?.unit).toBe('Cel');
      expect(r.metrics.temperature?.value).toBeGreaterThan(5);
      expect(r.metrics.temperature?.value).toBeLessThan(35);
      expect(r.metrics.humidity?.value).toBeGreaterThanOrEqual(0);
      expect(r.metrics.humidity?.value).toBeLessThanOrEqual(100);
    }
  });
});
