import { gaussian, type Random, uniform } from '../random.ts';
import { bump, DAY, localWeekday, randomWaves, square, type Wave, waves } from './shapes.ts';
import type { MetricSpec, Profile, Site } from './types.ts';

const POWER: MetricSpec = { name: 'power', unit: 'W', scale: 0, typical: 100, min: 0 };
const VOLTAGE: MetricSpec = { name: 'voltage', unit: 'V', scale: -1, typical: 2, min: 0 };
const CURRENT: MetricSpec = { name: 'current', unit: 'A', scale: -2, typical: 0.5, min: 0 };
const ENERGY: MetricSpec = { name: 'energy', unit: 'Wh', scale: 0, typical: 10, min: 0 };

type Usage = 'home' | 'office';

export interface PowerParams {
  utcOffsetHours: number;
  usage: Usage;
  baseLoad: number;
  peakLoad: number;
  compressor: { power: number; periodMs: number; duty: number; phase: number };
  noise: number;
  nominalVoltage: number;
  grid: Wave[];
  /** Voltage drop per watt of load on the line (ohmic). */
  dropPerWatt: number;
  powerFactor: number;
  initialEnergy: number;
}

function demand(p: PowerParams, t: number): number {
  const o = p.utcOffsetHours;
  if (p.usage === 'home') {
    return p.peakLoad * (0.6 * bump(t, o, 7.5, 1) + bump(t, o, 19.5, 1.8));
  }
  const weekday = localWeekday(t, o);
  if (weekday === 0 || weekday === 6) return 0;
  return p.peakLoad * Math.min(1, bump(t, o, 13, 3.5) * 1.4);
}

/**
 * A power meter: active power from a daily usage pattern (a home with morning and evening
 * peaks, or an office on weekdays), a compressor cycling on and off, and noise; line voltage
 * with slow grid swings that sags under load; current from power, voltage and power factor; an
 * energy counter (Wh) that only grows.
 */
export const power: Profile<PowerParams> = {
  name: 'power',
  description: 'power (W), voltage (V), current (A), energy (Wh) of a power meter',
  metrics: [POWER, VOLTAGE, CURRENT, ENERGY],
  params(random: Random, site: Site): PowerParams {
    return {
      utcOffsetHours: site.utcOffsetHours,
      usage: random() < 0.5 ? 'home' : 'office',
      baseLoad: uniform(random, 150, 600),
      peakLoad: uniform(random, 1000, 4000),
      compressor: {
        power: uniform(random, 100, 800),
        periodMs: uniform(random, 20, 60) * 60_000,
        duty: uniform(random, 0.3, 0.6),
        phase: random(),
      },
      noise: uniform(random, 0.01, 0.03),
      nominalVoltage: random() < 0.8 ? 230 : 240,
      grid: randomWaves(random, 2, 0.2 * DAY, 1.5 * DAY, 1.5),
      dropPerWatt: uniform(random, 0.0003, 0.001),
      powerFactor: uniform(random, 0.9, 0.98),
      initialEnergy: Math.round(uniform(random, 1e4, 1e6)),
    };
  },
  sample(p, t, random, memory) {
    const c = p.compressor;
    const load =
      (p.baseLoad + demand(p, t) + c.power * square(t, c.periodMs, c.duty, c.phase)) *
      (1 + p.noise * gaussian(random));
    const watts = Math.max(0, load);
    const volts =
      p.nominalVoltage + waves(t, p.grid) - p.dropPerWatt * watts + 0.3 * gaussian(random);
    const amps = watts / (volts * p.powerFactor);
    const last = memory.lastTime;
    const energy =
      (memory.energy ?? p.initialEnergy) +
      (last === undefined ? 0 : (watts * Math.max(0, t - last)) / 3_600_000);
    memory.energy = energy;
    memory.lastTime = t;
    return { power: watts, voltage: volts, current: amps, energy };
  },
};
