import { describe, expect, it } from 'vitest';
import { BehaviourPlan } from '../src/behaviours.ts';
import { seededRandom } from '../src/random.ts';
import { START, spec, takeReadings, valuesOf } from './support/devices.ts';

const DAY = 24 * 60; // readings a day at one a minute

describe('firmware behaviours of a simulated device', () => {
  it('reboots into a new session with the uptime starting again', () => {
    const { steps, device } = takeReadings(spec('climate'), DAY, {
      behaviours: { rebootEveryMs: 3_600_000 },
    });
    const reboots = steps.filter((s) => s.reboot !== undefined);
    expect(reboots.length).toBeGreaterThan(10);
    expect(reboots.length).toBeLessThan(45);
    expect(device.reboots).toBe(reboots.length);
    expect(new Set(reboots.map((s) => s.reboot)).size).toBe(reboots.length);
    for (const r of reboots) expect(r.samples[0]?.uptime).toBe(0);
  });

  it('goes silent for a while, labels the silence, and leaves the other readings alone', () => {
    const behaviours = { silenceEveryMs: 4 * 3_600_000, silenceForMs: 30 * 60_000 };
    const clean = takeReadings(spec('climate'), DAY);
    const quiet = takeReadings(spec('climate'), DAY, { behaviours });
    const silences = quiet.labels.filter((l) => l.type === 'silence');
    expect(silences.length).toBeGreaterThan(0);
    expect(quiet.device.silences).toBe(silences.length);
    quiet.steps.forEach((step, i) => {
      const t = clean.steps[i]?.samples[0]?.time as number;
      const silent = silences.some((l) => t >= l.start && t < l.end);
      if (silent) expect(step.samples).toEqual([]);
      else expect(step.samples).toEqual(clean.steps[i]?.samples);
    });
  });

  it('holds readings back and sends a burst of them at once, losing none', () => {
    const clean = takeReadings(spec('climate'), DAY);
    const bursty = takeReadings(spec('climate'), DAY, {
      behaviours: { burstEveryMs: 3_600_000, burstSize: 6 },
    });
    const sizes = bursty.steps.map((s) => s.samples.length).filter((n) => n > 1);
    expect(sizes.length).toBeGreaterThan(5);
    expect(new Set(sizes)).toEqual(new Set([6]));
    const sent = [...bursty.steps.flatMap((s) => s.samples), ...bursty.device.drain()];
    expect(sent).toEqual(clean.steps.flatMap((s) => s.samples));
  });

  it('stamps readings with a skewed, drifting clock while the signal follows true time', () => {
    const clean = takeReadings(spec('climate'), 600);
    const skewed = takeReadings(spec('climate'), 600, {
      behaviours: { clockSkewMs: 30_000, clockDriftPpm: 500 },
    });
    const offsets = skewed.steps.map(
      (s) => (s.samples[0]?.time as number) - (s.samples[0]?.trueTime as number),
    );
    expect(Math.abs(offsets[0] as number)).toBeLessThanOrEqual(30_000);
    expect(offsets[0]).not.toBe(0);
    expect(offsets.at(-1)).not.toBe(offsets[0]); // it drifts
    expect(Math.abs((offsets.at(-1) as number) - (offsets[0] as number))).toBeLessThan(
      600 * 60_000 * 500e-6 + 2,
    );
    skewed.steps.forEach((s, i) => {
      expect(valuesOf(s.samples[0])).toEqual(valuesOf(clean.steps[i]?.samples[0]));
    });
  });

  it('jitters the sampling times but keeps them increasing', () => {
    const { steps } = takeReadings(spec('climate', { intervalMs: 1000 }), 500, {
      behaviours: { jitterMs: 300 },
    });
    const times = steps.map((s) => s.t);
    expect(times.some((t) => (t - START) % 1000 !== 0)).toBe(true);
    for (let i = 1; i < times.length; i += 1)
      expect(times[i]).toBeGreaterThan(times[i - 1] as number);
  });

  it('plans each behaviour from its own stream: the same seed, the same plan', () => {
    const plan = (seed: number) => {
      const p = new BehaviourPlan(
        { rebootEveryMs: 1000, silenceEveryMs: 5000 },
        seededRandom(seed),
        0,
      );
      const out: string[] = [];
      for (let t = 0; t < 60_000; t += 100) {
        if (p.rebootDue(t)) out.push(`r${t}`);
        if (p.silenceAt(t)?.begins) out.push(`s${t}`);
      }
      return out;
    };
    expect(plan(1)).toEqual(plan(1));
    expect(plan(1)).not.toEqual(plan(2));
  });
});
