import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabelFile } from '../src/anomalies/labels.ts';
import { anomalyRulesFrom, globMatch, parseAnomalySpec } from '../src/anomalies/spec.ts';
import type { AnomalyType, Label } from '../src/anomalies/types.ts';
import { START, spec, takeReadings, valuesOf } from './support/devices.ts';

const HOUR = 3_600_000;
const N = 6 * 60; // six hours at one reading a minute

function twin(type: AnomalyType, extra = '', behaviours = {}) {
  const rules = parseAnomalySpec(`${type}:metrics=temperature,at=2h,${extra}`);
  const clean = takeReadings(spec('climate'), N, { behaviours });
  const dirty = takeReadings(spec('climate'), N, { anomalies: rules, behaviours });
  return { clean, dirty };
}

describe('anomaly injection', () => {
  const cases: Array<[AnomalyType, string]> = [
    ['spike', 'magnitude=5'],
    ['level-shift', 'duration=30m,magnitude=-4'],
    ['drift', 'duration=60m,magnitude=6'],
    ['stuck', 'duration=45m'],
    ['dropout', 'duration=20m'],
    ['noise-burst', 'duration=40m,magnitude=2'],
  ];

  it.each(cases)(
    '%s changes the metric as specified inside its labelled window only',
    (type, extra) => {
      const { clean, dirty } = twin(type, extra);
      expect(dirty.labels).toHaveLength(1);
      const label = dirty.labels[0] as Label;
      expect(label).toMatchObject({
        device: 'dev-001',
        metric: 'temperature',
        type,
        start: START + 2 * HOUR,
      });
      const inside: Array<{ t: number; clean: number; dirty: number | undefined }> = [];
      let before: number | undefined;
      clean.steps.forEach((step, i) => {
        const c = valuesOf(step.samples[0]);
        const d = valuesOf(dirty.steps[i]?.samples[0]);
        const time = step.samples[0]?.time as number;
        expect(d.humidity).toBe(c.humidity); // other metrics never change
        if (time >= label.start && time < label.end) {
          inside.push({ t: time, clean: c.temperature as number, dirty: d.temperature });
        } else {
          expect(d.temperature, `outside the window at ${time}`).toBe(c.temperature);
          if (time < label.start) before = c.temperature;
        }
      });
      expect(inside.length).toBeGreaterThan(0);
      const m = label.magnitude as number;
      for (const r of inside) {
        const diff = (r.dirty as number) - r.clean;
        if (type === 'spike' || type === 'level-shift') expect(diff).toBeCloseTo(m, 1);
        if (type === 'drift')
          expect(diff).toBeCloseTo((m * (r.t - label.start)) / (label.end - label.start), 1);
        if (type === 'stuck') expect(r.dirty).toBe(before);
        if (type === 'dropout') expect(r.dirty).toBeUndefined();
      }
      if (type === 'spike') expect(inside).toHaveLength(1); // one reporting interval
      if (type === 'noise-burst') {
        const diffs = inside.map((r) => (r.dirty as number) - r.clean);
        const sd = Math.sqrt(diffs.reduce((a, d) => a + d * d, 0) / diffs.length);
        expect(sd).toBeGreaterThan(m * 0.5);
        expect(sd).toBeLessThan(m * 1.6);
      }
    },
  );

  it('labels in the time the device stamps, so a skewed clock still matches the readings', () => {
    const { clean, dirty } = twin('level-shift', 'duration=30m,magnitude=3', {
      clockSkewMs: 90_000,
    });
    const label = dirty.labels[0] as Label;
    expect(label.start).not.toBe(START + 2 * HOUR);
    clean.steps.forEach((step, i) => {
      const s = step.samples[0];
      const changed = valuesOf(dirty.steps[i]?.samples[0]).temperature !== valuesOf(s).temperature;
      const inWindow = (s?.time as number) >= label.start && (s?.time as number) < label.end;
      expect(changed).toBe(inWindow);
    });
  });

  it('repeats windows with `every`, deterministically per seed, never overlapping per metric', () => {
    const rules = parseAnomalySpec('spike:every=2h;stuck:every=6h,duration=30m,metrics=humidity');
    const week = 7 * 24 * 60;
    const a = takeReadings(spec('climate'), week, { anomalies: rules, seed: 3 });
    const b = takeReadings(spec('climate'), week, { anomalies: rules, seed: 3 });
    const c = takeReadings(spec('climate'), week, { anomalies: rules, seed: 4 });
    expect(a.labels).toEqual(b.labels);
    expect(a.labels).not.toEqual(c.labels);
    const spikes = a.labels.filter((l) => l.type === 'spike');
    expect(spikes.length).toBeGreaterThan(40); // 2 metrics, ~84 hours between... roughly 2 x 84
    expect(spikes.length).toBeLessThan(250);
    for (const metric of ['temperature', 'humidity']) {
      const own = a.labels.filter((l) => l.metric === metric && l.type === 'spike');
      for (let i = 1; i < own.length; i += 1)
        expect(own[i]?.start).toBeGreaterThanOrEqual(own[i - 1]?.end as number);
    }
    expect(a.labels.filter((l) => l.type === 'stuck').every((l) => l.metric === 'humidity')).toBe(
      true,
    );
  });

  it('selects devices by glob and by fraction, from the seed', () => {
    const rules = parseAnomalySpec('level-shift:devices=plant-a-*,at=10m,fraction=0.5');
    const hit = (id: string, seed: number) =>
      takeReadings(spec('climate', { id, intervalMs: 60_000 }), 20, { anomalies: rules, seed })
        .labels.length > 0;
    const ids = Array.from({ length: 40 }, (_, i) => `plant-a-${i}`);
    const chosen = ids.filter((id) => hit(id, 9));
    expect(chosen.length).toBeGreaterThan(10);
    expect(chosen.length).toBeLessThan(30);
    expect(ids.filter((id) => hit(id, 9))).toEqual(chosen);
    expect(hit('plant-b-1', 9)).toBe(false);
    expect(globMatch('sim-0?1', 'sim-001')).toBe(true);
    expect(globMatch('sim-*', 'sim.001')).toBe(false);
  });

  it('writes the labels file as CSV or JSON lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'labels-'));
    const { labels } = twin('drift', 'duration=30m,magnitude=2').dirty;
    for (const name of ['truth.csv', 'truth.jsonl']) {
      const file = new LabelFile(join(dir, name));
      for (const l of labels) file.add(l);
      file.add({ device: 'dev-001', metric: '*', type: 'silence', start: 1, end: 2 });
      await file.close();
      const text = readFileSync(join(dir, name), 'utf8');
      const l = labels[0] as Label;
      if (name.endsWith('.csv')) {
        expect(text).toBe(
          `device,metric,type,start,end\ndev-001,temperature,drift,${l.start},${l.end}\ndev-001,*,silence,1,2\n`,
        );
      } else {
        expect(
          text
            .trim()
            .split('\n')
            .map((x) => JSON.parse(x)),
        ).toEqual([
          {
            device: 'dev-001',
            metric: 'temperature',
            type: 'drift',
            start: l.start,
            end: l.end,
            magnitude: 2,
          },
          { device: 'dev-001', metric: '*', type: 'silence', start: 1, end: 2 },
        ]);
      }
    }
  });
});

describe('anomaly specs and rules files', () => {
  it('parses the command-line form', () => {
    expect(
      parseAnomalySpec(
        'spike:metrics=temperature|humidity,every=10m,magnitude=6; stuck:devices=sim-00*,at=5m,duration=2m;shift:at=2026-01-05T10:00:00Z',
      ),
    ).toEqual([
      {
        type: 'spike',
        devices: [],
        metrics: ['temperature', 'humidity'],
        every: 600_000,
        magnitude: 6,
      },
      { type: 'stuck', devices: ['sim-00*'], metrics: [], at: '5m', duration: 120_000 },
      { type: 'level-shift', devices: [], metrics: [], at: '2026-01-05T10:00:00Z' },
    ]);
  });

  it.each([
    [
      'wobble:at=1m',
      /type: expected one of spike, level-shift, drift, stuck, dropout, noise-burst/,
    ],
    ['spike:when=1m', /unknown key "when"/],
    ['spike:at=1m,magnitude=big', /magnitude: expected a number, got "big"/],
    ['spike', /give exactly one of at \(one window\) or every/],
    ['spike:at=1m,every=2m', /give exactly one of at/],
    ['spike:every=soon', /every: expected a duration/],
    ['spike:every=1m,fraction=2', /fraction: expected 0..1/],
    ['spike:every', /expected key=value/],
  ])('rejects %s with a message naming the problem', (text, message) => {
    expect(() => parseAnomalySpec(text)).toThrow(message);
  });

  it('reads a YAML rules file with the same keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const path = join(dir, 'rules.yaml');
    writeFileSync(
      path,
      'anomalies:\n  - type: drift\n    devices: [sim-001, "sim-01*"]\n    metrics: temperature\n    at: 30m\n    duration: 1h\n    magnitude: 3\n  - { type: dropout, every: 600, duration: 5m, count: 2 }\n',
    );
    expect(anomalyRulesFrom(path)).toEqual([
      {
        type: 'drift',
        devices: ['sim-001', 'sim-01*'],
        metrics: ['temperature'],
        at: '30m',
        duration: 3_600_000,
        magnitude: 3,
      },
      { type: 'dropout', devices: [], metrics: [], every: 600_000, duration: 300_000, count: 2 },
    ]);
    writeFileSync(path, 'anomalies:\n  - type: spike\n    evry: 10m\n');
    expect(() => anomalyRulesFrom(path)).toThrow(/rules.yaml: anomalies\[0\]: unknown key "evry"/);
  });
});
