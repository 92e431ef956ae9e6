import { seededRandom } from '@iot-stream/contracts';
/**
 * Seeded synthetic sensor signals with injected anomalies, for detector tests: a level with a
 * slow daily wave, Gaussian noise, quantised like a real sensor, readings at a jittered
 * cadence; then spikes, level shifts, drifts, stuck runs, dropouts or noise bursts at random
 * places, with clean stretches between them so a detector can settle.
 */

export type AnomalyType = 'spike' | 'shift' | 'drift' | 'stuck' | 'dropout' | 'burst';
export const ANOMALY_TYPES: AnomalyType[] = [
  'spike',
  'shift',
  'drift',
  'stuck',
  'dropout',
  'burst',
];

export interface InjectedAnomaly {
  type: AnomalyType;
  /** Event time of the first affected reading (dropout: of the first missing one). */
  start: number;
  /** Event time of the last affected reading (dropout: of the first reading after it). */
  end: number;
}

export interface Point {
  time: number;
  value: number;
}

export interface SyntheticSignal {
  points: Point[];
  anomalies: InjectedAnomaly[];
  cadenceMs: number;
}

export interface SyntheticOptions {
  seed: number;
  anomaly: AnomalyType;
  /** Anomalies to inject (default 8). */
  count?: number;
  /** Readings before anomalies are injected (default 4,000), first 300 always clean. */
  length?: number;
  cadenceMs?: number;
  jitterMs?: number;
  start?: number;
  level?: number;
  sigma?: number;
  /** Amplitude of the daily wave (default 0.5, i.e. one sigma). */
  amplitude?: number;
  quantum?: number;
  /** Size in sigmas: spike height, shift step, drift end, burst noise factor. */
  magnitude?: [number, number];
  /** Readings affected. */
  duration?: number;
}

const DEFAULTS: Record<AnomalyType, { magnitude: [number, number]; duration: number }> = {
  spike: { magnitude: [7, 12], duration: 1 },
  shift: { magnitude: [2, 3], duration: 120 },
  drift: { magnitude: [3, 5], duration: 120 },
  stuck: { magnitude: [0, 0], duration: 40 },
  dropout: { magnitude: [0, 0], duration: 30 },
  burst: { magnitude: [5, 8], duration: 20 },
};

const DAY = 86_400_000;
const WARMUP = 300;
const MARGIN = 100;

export function synthesize(o: SyntheticOptions): SyntheticSignal {
  const rand = mulberry32(o.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const n = o.length ?? 4_000;
  const cadenceMs = o.cadenceMs ?? 60_000;
  const jitterMs = o.jitterMs ?? 2_000;
  const t0 = o.start ?? Date.UTC(2026, 10, 22);
  const level = o.level ?? 20;
  const sigma = o.sigma ?? 0.5;
  const amplitude = o.amplitude ?? 0.5;
  const quantum = o.quantum ?? 0.01;
  const { magnitude, duration } = { ...DEFAULTS[o.anomaly], ...o };
  const count = o.count ?? 8;
  const times = Array.from(
    { length: n },
    (_, i) => t0 + i * cadenceMs + Math.round((rand() * 2 - 1) * jitterMs),
  );
  const base = times.map((t) => level + amplitude * Math.sin((2 * Math.PI * (t - t0)) / DAY));
  const noise = times.map(() => sigma * gauss());
  const missing = new Set<number>();
  const anomalies: InjectedAnomaly[] = [];
  const segment = Math.floor((n - WARMUP) / count);
  for (let k = 0; k < count; k += 1) {
    const room = segment - duration - 2 * MARGIN;
    if (room < 1) throw new RangeError('series too short for that many anomalies');
    const i = WARMUP + k * segment + MARGIN + Math.floor(rand() * room);
    const size = magnitude[0] + rand() * (magnitude[1] - magnitude[0]);
    const sign = rand() < 0.5 ? -1 : 1;
    for (let j = i; j < i + duration; j += 1) {
      const b = base[j] as number;
      if (o.anomaly === 'spike' || o.anomaly === 'shift') base[j] = b + sign * size * sigma;
      if (o.anomaly === 'drift') base[j] = b + (sign * size * sigma * (j - i + 1)) / duration;
      if (o.anomaly === 'burst') noise[j] = (noise[j] as number) * size;
      if (o.anomaly === 'dropout') missing.add(j);
    }
    if (o.anomaly === 'stuck') {
      for (let j = i + 1; j < i + duration; j += 1) {
        base[j] = base[i] as number;
        noise[j] = noise[i] as number;
      }
    }
    const end = o.anomaly === 'dropout' ? i + duration : i + duration - 1;
    anomalies.push({ type: o.anomaly, start: times[i] as number, end: times[end] as number });
  }
  const points: Point[] = [];
  times.forEach((time, i) => {
    if (missing.has(i)) return;
    const v = (base[i] as number) + (noise[i] as number);
    points.push({ time, value: Math.round(v / quantum) * quantum });
  });
  return { points, anomalies, cadenceMs };
}

/** The seeded PRNG of contracts (uniform in [0, 1)), by its former name here. */
export const mulberry32 = seededRandom;
