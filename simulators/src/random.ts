import { seededRandom } from '@iot-stream/contracts';

/** The seeded PRNG of contracts (mulberry32): the same seed gives the same fleet and signals. */
export { seededRandom };

export type Random = () => number;

/** Standard normal sample (Box-Muller) from a uniform source. */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A seed derived from a run seed and names (device id, purpose, rule index...). Each purpose
 * gets its own stream, so turning on one feature (anomalies, reboots, line noise) never changes
 * the numbers another feature draws: the same seed gives the same signal with or without it.
 */
export function deriveSeed(seed: number, ...parts: Array<string | number>): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i += 1) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ 0x2f, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A random stream for one purpose of one device (see deriveSeed). */
export function streamFor(seed: number, ...parts: Array<string | number>): Random {
  return seededRandom(deriveSeed(seed, ...parts));
}

/** A uniformly random u32, e.g. a session id [FP-3.7]. */
export function randomU32(random: Random): number {
  return Math.floor(random() * 0x1_0000_0000) >>> 0;
}

/** Exponentially distributed waiting time with the given mean (a Poisson process's gaps). */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

/** Uniform in [lo, hi). */
export function uniform(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * random();
}
