import { seededRandom } from './random.ts';

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

/**
 * Acknowledgement latencies (send -> ack, ms). Keeps a uniform reservoir of at most `capacity`
 * samples, so a long run's percentiles cost bounded memory; max and n are exact.
 */
export class LatencyRecorder {
  private readonly samples: number[] = [];
  private n = 0;
  private max = 0;
  private readonly random = seededRandom(0x1a7e);

  constructor(private readonly capacity = 100_000) {}

  add(ms: number): void {
    this.n += 1;
    if (ms > this.max) this.max = ms;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else {
      const j = Math.floor(this.random() * this.n);
      if (j < this.capacity) this.samples[j] = ms;
    }
  }

  summary(): LatencySummary | undefined {
    if (this.n === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) =>
      round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(this.max), n: this.n };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
