import { describe, expect, it } from 'vitest';
import { PROFILES, profileByName, quantise, rawValue } from '../src/profiles/index.ts';
import { localHour } from '../src/profiles/shapes.ts';
import { START, spec, takeReadings, valuesOf } from './support/devices.ts';

const WEEK = 7 * 24 * 60; // readings at one per minute

function series(profile: string, seed: number, n = WEEK, utcOffsetHours = 0) {
  const { steps } = takeReadings(
    spec(profile, { site: { name: 'x', utcOffsetHours, temperatureOffset: 0 } }),
    n,
    { seed },
  );
  return steps.map((s) => ({ t: s.t, v: valuesOf(s.samples[0]) }));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('device profiles', () => {
  it.each(Object.keys(PROFILES))(
    '%s is deterministic per seed and differs between seeds',
    (name) => {
      const a = series(name, 11, 500);
      const b = series(name, 11, 500);
      const c = series(name, 12, 500);
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
    },
  );

  it('keeps every value plausible over a week, quantised to its scale, with SenML units', () => {
    const ranges: Record<string, [number, number]> = {
      temperature: [5, 40],
      humidity: [0, 100],
      vibration_rms: [0, 10],
      vibration_peak: [0, 50],
      bearing_temperature: [10, 70],
      power: [0, 10_000],
      voltage: [200, 260],
      current: [0, 50],
      energy: [0, 2e6],
      co2: [350, 2500],
      pm2_5: [0, 200],
      tvoc: [0, 2000],
    };
    const problems: string[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      for (const name of Object.keys(PROFILES)) {
        const profile = profileByName(name);
        const { steps } = takeReadings(spec(name, { intervalMs: 300_000 }), 7 * 288, { seed });
        for (const step of steps) {
          const sample = step.samples[0];
          const names = sample?.values.map((v) => v.metric.name).join(',');
          if (names !== profile.metrics.map((m) => m.name).join(','))
            problems.push(`${name}: ${names}`);
          for (const { metric, value } of sample?.values ?? []) {
            const [lo, hi] = ranges[metric.name] as [number, number];
            if (!(value >= lo && value <= hi)) problems.push(`${name} ${metric.name}=${value}`);
            if (quantise(value, metric.scale) !== value)
              problems.push(`${metric.name}=${value} not quantised`);
          }
        }
        for (const m of profile.metrics) expect(m.unit).toMatch(/^[\x21-\x7e]{1,16}$/);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('shows a daily temperature cycle: afternoons warmer than nights, in local time', () => {
    for (const offset of [0, 9]) {
      const s = series('climate', 5, WEEK, offset);
      const at = (h0: number, h1: number) =>
        mean(
          s
            .filter((r) => localHour(r.t, offset) >= h0 && localHour(r.t, offset) < h1)
            .map((r) => r.v.temperature as number),
        );
      expect(at(14, 17) - at(2, 5)).toBeGreaterThan(2);
      // humidity moves against temperature
      const hum = (h0: number, h1: number) =>
        mean(
          s
            .filter((r) => localHour(r.t, offset) >= h0 && localHour(r.t, offset) < h1)
            .map((r) => r.v.humidity as number),
        );
      expect(hum(14, 17)).toBeLessThan(hum(2, 5));
    }
  });

  it('vibrates during shifts and stands still at night; the bearing warms up while running', () => {
    const s = series('vibration', 3);
    const day = s.filter((r) => r.t < START + 86_400_000); // a Monday
    const noon = day.filter((r) => localHour(r.t, 0) >= 11 && localHour(r.t, 0) < 13);
    const night = day.filter((r) => localHour(r.t, 0) >= 1 && localHour(r.t, 0) < 3);
    expect(mean(noon.map((r) => r.v.vibration_rms as number))).toBeGreaterThan(1.5);
    expect(mean(night.map((r) => r.v.vibration_rms as number))).toBeLessThan(0.2);
    expect(mean(noon.map((r) => r.v.bearing_temperature as number))).toBeGreaterThan(
      mean(night.map((r) => r.v.bearing_temperature as number)) + 8,
    );
  });

  it('meters energy that only grows, consistent with power', () => {
    const s = series('power', 4, 24 * 60);
    const energy = s.map((r) => r.v.energy as number);
    for (let i = 1; i < energy.length; i += 1)
      expect(energy[i]).toBeGreaterThanOrEqual(energy[i - 1] as number);
    const used = (energy.at(-1) as number) - (energy[0] as number);
    const average = mean(s.map((r) => r.v.power as number));
    expect(used).toBeGreaterThan(average * 23 * 0.9);
    expect(used).toBeLessThan(average * 24 * 1.1);
    for (const r of s) {
      expect((r.v.current as number) * (r.v.voltage as number)).toBeGreaterThanOrEqual(
        (r.v.power as number) * 0.9,
      );
    }
  });

  it('raises CO2 while a room is occupied', () => {
    const s = series('air-quality', 8);
    const co2 = s.map((r) => r.v.co2 as number);
    expect(Math.max(...co2) - Math.min(...co2)).toBeGreaterThan(250);
  });

  it('converts values to raw integers and back for the serial link', () => {
    expect(quantise(21.456, -2)).toBe(21.46);
    expect(rawValue(21.46, -2)).toBe(2146);
    expect(quantise(1234, 1)).toBe(1230);
    expect(rawValue(1230, 1)).toBe(123);
    expect(() => profileByName('nope')).toThrow(/unknown profile "nope"; profiles: climate/);
  });
});
