import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import type { Detector, DetectorKind, Scored } from './detector.ts';
import { fromBase64, toBase64 } from './floats.ts';

/**
 * Bins per octave of log2(1 + statistic), and octaves: statistics up to about 1e12 (a z-score
 * against a flat baseline can reach 1e9); larger ones share the last bin.
 */
const PER_OCTAVE = 3;
const OCTAVES = 40;
const BINS = PER_OCTAVE * OCTAVES;

export interface TailGateOptions {
  /** A statistic counts as rare when at most this share of recent ones reached it. */
  rareShare: number;
  /** Readings over which the share is taken (exponential forgetting, this span). */
  span: number;
}

export const TAIL_GATE_DEFAULTS: TailGateOptions = { rareShare: 0.01, span: 2000 };

const StateSchema = Type.Object({
  inner: Type.Unknown(),
  /** Decayed counts per bin (base64 float64) and the weight of the newest reading. */
  bins: Type.String(),
  weight: Type.Number({ exclusiveMinimum: 0 }),
  total: Type.Number({ minimum: 0 }),
});
type GateState = Static<typeof StateSchema>;

/**
 * Calibrates a detector with a threshold in its own units (|z|, a CUSUM sum) against the
 * series' own recent behaviour: a score of 0.5 needs the statistic to reach the rule's
 * threshold AND to be rare among the series' last `span` statistics (reached by at most
 * `rareShare` of them). r = min(statistic / threshold, log(1/share) / log(1/rareShare)),
 * score = r^2 / (1 + r^2). On data that fit the detector's model the gate stays open and
 * nothing changes; where its statistic crosses the threshold often (heavy tails, rhythm, a
 * level that moved and stayed) the crossings stop being rare and stop alarming: no flood, and a
 * lasting change becomes the new normal within about `span x rareShare` readings of alarms.
 * State: 120 numbers (a decayed histogram of log2(1 + statistic)) beside the detector's own.
 */
export class TailGate implements Detector {
  readonly kind: DetectorKind;
  /**
   * Decayed counts per bin, up to the highest bin reached (a series' statistics mostly stay in
   * the first dozen of the 120: the rest would be zeros, 1 KB a series).
   */
  private bins: number[] = [];
  private weight = 1;
  /** The sum of the bins (derived, kept to save a pass per reading). */
  private total = 0;
  private readonly decay: number;

  constructor(
    private readonly inner: Detector,
    private readonly threshold: number,
    private readonly options: TailGateOptions = TAIL_GATE_DEFAULTS,
  ) {
    this.kind = inner.kind;
    this.decay = 1 - 1 / options.span;
  }

  update(time: number, value: number): Scored {
    const r = this.inner.update(time, value);
    const rare = this.rarity(r.statistic);
    this.learn(r.statistic);
    if (rare === undefined || r.score < 0.25) return r;
    const raw = r.statistic / this.threshold;
    const ratio = Math.min(raw, rare);
    return { score: (ratio * ratio) / (1 + ratio * ratio), statistic: r.statistic };
  }

  tick(now: number): Scored {
    return this.inner.tick ? this.inner.tick(now) : { score: 0, statistic: 0 };
  }

  episodeClosed(): void {
    this.inner.episodeClosed?.();
  }

  snapshot() {
    return {
      inner: this.inner.snapshot(),
      // All 120 (zeros beyond those reached), as hubs before 2026-12-05 read them: an older hub
      // taking over a partition in a rolling upgrade restores this hub's checkpoint.
      bins: toBase64(padded(this.bins, BINS)),
      weight: this.weight,
      total: this.total,
    };
  }

  restore(state: unknown): void {
    if (!(state && typeof state === 'object' && 'bins' in state)) {
      // A checkpoint of a hub before the gate: the detector's own state; the gate starts anew.
      this.inner.restore(state);
      this.bins = [];
      this.weight = 1;
      this.total = 0;
      return;
    }
    const s: GateState = checkState(StateSchema, state, 'tail gate');
    this.inner.restore(s.inner);
    const bins = fromBase64(s.bins);
    if (bins.length > BINS) throw new RangeError('tail gate: a snapshot of more bins than 120');
    let used = bins.length; // trailing zeros (all 120 bins, as older hubs saved them) dropped
    while (used > 0 && bins[used - 1] === 0) used -= 1;
    this.bins = Array.from(bins.subarray(0, used));
    this.weight = s.weight;
    this.total = s.total;
  }

  /**
   * log(1/share) / log(1/rareShare) for the share of recent statistics at or above x (1 at
   * the rare share, more when rarer); undefined until enough readings were seen.
   */
  private rarity(x: number): number | undefined {
    const total = this.total;
    const effective = total / this.weight;
    if (effective < 2 / this.options.rareShare) return undefined;
    const pos = bin(x);
    const b = Math.floor(pos);
    // Within a bin, linearly; the last bin holds everything beyond the range, all "at or above".
    const bins = this.bins;
    // (bins[b] ?? 0 would read past the end, which V8 makes a slow lookup)
    let above = b < bins.length ? (bins[b] as number) * (b === BINS - 1 ? 1 : 1 - (pos - b)) : 0;
    for (let i = b + 1; i < bins.length; i += 1) above += bins[i] as number;
    const share = Math.max(above / total, this.weight / total / 4); // below resolution: rarer
    return Math.log(1 / share) / Math.log(1 / this.options.rareShare);
  }

  private learn(x: number): void {
    this.weight /= this.decay;
    if (this.weight > 1e200) {
      for (let i = 0; i < this.bins.length; i += 1)
        this.bins[i] = (this.bins[i] as number) / this.weight;
      this.total /= this.weight;
      this.weight = 1;
    }
    const b = Math.floor(bin(x));
    while (this.bins.length <= b) this.bins.push(0);
    this.bins[b] = (this.bins[b] as number) + this.weight;
    this.total += this.weight;
  }
}

function padded(values: readonly number[], length: number): number[] {
  const out = values.slice();
  while (out.length < length) out.push(0);
  return out;
}

function bin(x: number): number {
  const pos = Math.log2(1 + Math.max(0, x)) * PER_OCTAVE;
  return Math.min(BINS - 1e-9, Number.isFinite(pos) ? pos : BINS - 1e-9);
}
