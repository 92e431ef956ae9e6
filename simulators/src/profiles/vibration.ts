import { gaussian, type Random, uniform } from '../random.ts';
import { DAY, isOn, response, type Schedule, type Wave, waves } from './shapes.ts';
import type { MetricSpec, Profile, Site } from './types.ts';

const RMS: MetricSpec = { name: 'vibration_rms', unit: 'm/s2', scale: -3, typical: 0.3, min: 0 };
const PEAK: MetricSpec = { name: 'vibration_peak', unit: 'm/s2', scale: -3, typical: 1, min: 0 };
const BEARING: MetricSpec = { name: 'bearing_temperature', unit: 'Cel', scale: -1, typical: 1 };

export interface VibrationParams {
  start: number;
  shift: Schedule;
  runningRms: number;
  idleRms: number;
  crestFactor: number;
  /** Bearing wear: relative growth of the running RMS per day. */
  wearPerDay: number;
  load: Wave;
  noise: number;
  ambient: number;
  bearingRise: number;
  tauUpMs: number;
  tauDownMs: number;
}

/**
 * A machine vibration sensor: RMS and peak acceleration, high while the machine runs its shift
 * (load swings, slow wear) and near zero when it stands; the bearing warms up after the start
 * of a shift and cools down after it.
 */
export const vibration: Profile<VibrationParams> = {
  name: 'vibration',
  description: 'vibration_rms, vibration_peak (m/s2), bearing_temperature (Cel) of a machine',
  metrics: [RMS, PEAK, BEARING],
  params(random: Random, site: Site, start: number): VibrationParams {
    return {
      start,
      shift: {
        startHour: uniform(random, 5, 8),
        endHour: uniform(random, 18, 23),
        weekdaysOnly: random() < 0.7,
        utcOffsetHours: site.utcOffsetHours,
      },
      runningRms: uniform(random, 2, 5),
      idleRms: uniform(random, 0.02, 0.05),
      crestFactor: uniform(random, 3, 4.5),
      wearPerDay: uniform(random, 0.002, 0.01),
      load: {
        periodMs: uniform(random, 5, 20) * 60_000,
        phase: 2 * Math.PI * random(),
        amplitude: uniform(random, 0.1, 0.2),
      },
      noise: uniform(random, 0.03, 0.08),
      ambient: 22 + site.temperatureOffset + uniform(random, -2, 2),
      bearingRise: uniform(random, 15, 30),
      tauUpMs: uniform(random, 20, 40) * 60_000,
      tauDownMs: uniform(random, 30, 60) * 60_000,
    };
  },
  sample(p, t, random) {
    const running = isOn(t, p.shift);
    const wear = 1 + p.wearPerDay * Math.max(0, (t - p.start) / DAY);
    const rms = running
      ? p.runningRms * wear * (1 + waves(t, [p.load])) * (1 + p.noise * gaussian(random))
      : p.idleRms * Math.abs(1 + 0.3 * gaussian(random));
    const peak = rms * p.crestFactor * Math.abs(1 + 0.08 * gaussian(random));
    const heat = response(t, p.shift, p.tauUpMs, p.tauDownMs);
    const bearing = p.ambient + p.bearingRise * heat + 0.2 * gaussian(random);
    return {
      vibration_rms: Math.max(0, rms),
      vibration_peak: Math.max(0, peak),
      bearing_temperature: bearing,
    };
  },
};
