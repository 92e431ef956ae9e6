import { describe, expect, it } from 'vitest';
import { PartitionProcessor } from '../src/processing/partition-processor.ts';
import { SiteMap, UNASSIGNED_SITE } from '../src/processing/sites.ts';
import { aggregatePoints, readingPoints } from '../src/store/points.ts';
import { record } from './support/evaluate.ts';

const T0 = Date.UTC(2026, 11, 1);

describe('site tags', () => {
  it('hub rules win, then the site the readings carried, then "unassigned"', () => {
    const sites = new SiteMap([{ name: 'plant-a', devices: ['sim-plant-a-*', 'boiler.1'] }]);
    sites.observe('sim-plant-a-001', 'elsewhere');
    sites.observe('dev-9', 'lab');
    expect(sites.of('sim-plant-a-001')).toBe('plant-a');
    expect(sites.of('boiler.1')).toBe('plant-a');
    expect(sites.of('boilerx1')).toBe(UNASSIGNED_SITE); // '.' is literal, not a wildcard
    expect(sites.of('dev-9')).toBe('lab');
    expect(sites.of('dev-10')).toBe(UNASSIGNED_SITE);
  });

  it('what readings carried survives a checkpoint, so a restarted hub tags the same way', () => {
    const opts = {
      tickIntervalMs: 10_000,
      core: {
        rules: [],
        windows: { sizesMs: [60_000], maxOutOfOrdernessMs: 0, allowedLatenessMs: 0 },
      },
    };
    const a = new PartitionProcessor(opts);
    a.process([{ ...record('dev-1', 1, T0, { t: 1 }), site: 'lab' }]);
    const b = new PartitionProcessor(opts);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    const out = b.process([record('dev-1', 2, T0 + 120_000, { t: 2 })]);
    expect(out.siteOf('dev-1')).toBe('lab');
    expect(readingPoints(out.readings, out.siteOf)[0]?.tags?.site).toBe('lab');
    expect(aggregatePoints(out.aggregates, out.siteOf)[0]?.tags?.site).toBe('lab');
  });
});
