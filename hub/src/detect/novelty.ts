import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';
import { bounded, type Detector, type Scored, ZERO } from './detector.ts';
import { fromBase64, Ring, sumOfSmallest, toBase64, Window } from './floats.ts';

export const NoveltyParamsSchema = Type.Object(
  {
    shape: Type.Integer({
      minimum: 2,
      maximum: 200,
      default: 19,
      description: 'readings in the shape compared (the current one and those before it)',
    }),
    neighbours: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'nearest earlier shapes whose distances are summed',
    }),
    history: Type.Integer({
      minimum: 50,
      maximum: 5000,
      default: 1000,
      description: 'earlier shapes compared with (and scores calibrated against)',
    }),
    warmup: Type.Integer({
      minimum: 20,
      default: 200,
      description: 'earlier shapes needed before scoring (at most `history`)',
    }),
    cooldown: Type.Integer({
      minimum: 0,
      default: 120,
      description:
        'readings after an alert whose scores are halved (unless more surprising): one alert per event',
    }),
    margin: Type.Number({
      minimum: 1,
      default: 1.5,
      description:
        'a score of 0.5 needs a nonconformity this many times the highest in the history',
    }),
    alertAt: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.4,
      description: 'a score from here on starts the cooldown',
    }),
  },
  { additionalProperties: false },
);
export type NoveltyParams = Static<typeof NoveltyParamsSchema>;

const StateSchema = Type.Object({
  /** Readings seen (learned), and the cooldown left. */
  seen: Type.Integer({ minimum: 0 }),
  cooling: Type.Integer({ minimum: 0 }),
  coolingFrom: Type.Number({ minimum: 0 }),
  /** The last shape + history + shape readings, oldest first (base64 float64). */
  values: Type.String(),
  /** The sliding squared distances by lag (base64 float64; kept so a restore is exact). */
  lags: Type.String(),
  /** Recent nonconformity scores, oldest first (base64 float64). */
  calibration: Type.String(),
});

/** How much an extreme score beyond the calibration is discounted per factor of e. */
const BEYOND = 1;
/** Lag sums are recomputed exactly every this many readings (bounds floating drift). */
const EXACT_EVERY = 4096;
/** During a cooldown, a score counts in full only when this much more surprising (x3 rarer). */
const STRONGER = 0.5;

/**
 * kNN conformal novelty (after Burnaev and Ishimtsev's KNN-CAD): is the recent shape of the
 * series (its last `shape` readings) unlike every shape of the last `history` readings?
 *
 * - Nonconformity: the sum of the squared Euclidean distances from the current shape to its
 *   `neighbours` nearest among the shapes ending 1..history readings ago. Those distances are
 *   kept per lag and slid on by one reading at a time (O(history) per reading).
 * - Calibration: p = (earlier nonconformities >= this one, + 1) / (count + 1) over the last
 *   `history` readings, discounted further when it exceeds all of them (by max / this).
 *   surprise = -log10 p; r = surprise / log10((history + 1) x margin); score = r^2 / (1 + r^2).
 *   So 0.5 means "more unusual than anything in the last `history` readings, by `margin`",
 *   whatever the series' scale, noise, heavy tails or rhythm (any cycle shorter than `history`
 *   readings is learned). Stationary noise alone rarely gets there (a new maximum among
 *   `history` readings comes once per `history` readings; by `margin` much less often).
 * - Adaptation: a lasting change is normal once `neighbours` shapes like it are in the
 *   history, `neighbours` + `shape` readings after it began.
 * - Cooldown: after a score of `alertAt` or more, scores are halved for `cooldown` readings
 *   unless they are more surprising than the one that started it, so one event is one alert,
 *   not a run of them, while a stronger event right after a weaker one still counts.
 *
 * State: 3 x history + 2 x shape float64 numbers (~25 kB in memory and as a snapshot at the
 * defaults: test/bench/hub-state.ts), bounded; about 2 x history operations per reading.
 */
/**
 * Working space of sumOfSmallest, one for all series: detectors run one at a time and none
 * keeps it across calls (one per detector was 8 kB per series at the default history).
 */
let shared = new Float64Array(0);
function scratch(p: NoveltyParams): Float64Array {
  const n = Math.max(p.history, p.neighbours + 1);
  if (shared.length < n) shared = new Float64Array(n);
  return shared;
}

export class NoveltyDetector implements Detector {
  readonly kind = 'novelty';
  private readonly values: Window;
  /** Nonconformity scores of the last `history` readings (their order only in the snapshot). */
  private readonly calibration: Ring;
  /** lags[L - 1]: squared distance between the shapes ending now and L readings ago. */
  private readonly lags: Float64Array;
  private seen = 0;
  private cooling = 0;
  /** The surprise that started the cooldown: only a greater one counts in full during it. */
  private coolingFrom = 0;
  private readonly fullScore: number;

  constructor(private readonly p: NoveltyParams) {
    this.values = new Window(p.history + 2 * p.shape);
    this.calibration = new Ring(p.history);
    this.lags = new Float64Array(p.history);
    this.fullScore = Math.log10(p.history + 1) + Math.log10(p.margin);
  }

  update(_time: number, value: number): Scored {
    if (!Number.isFinite(value)) return ZERO; // not a reading to learn from
    this.learn(bounded(value));
    const n = this.comparable();
    if (n < Math.min(this.p.warmup, this.p.history)) return ZERO;
    if (this.calibration.size === 0) this.calibrate(n);
    const ncm = sumOfSmallest(this.lags, n, this.p.neighbours, scratch(this.p));
    const surprise = this.surprise(ncm);
    this.calibration.push(ncm);
    const r = surprise / this.fullScore;
    let score = (r * r) / (1 + r * r);
    if (this.cooling > 0) this.cooling -= 1;
    if (this.cooling > 0 && surprise <= this.coolingFrom + STRONGER) score /= 2;
    else if (score >= this.p.alertAt) {
      this.cooling = this.p.cooldown;
      this.coolingFrom = surprise;
    }
    return { score, statistic: surprise };
  }

  snapshot() {
    return {
      seen: this.seen,
      cooling: this.cooling,
      coolingFrom: this.coolingFrom,
      values: toBase64(this.values.toArray()),
      lags: toBase64(this.lags),
      calibration: toBase64(this.calibration.toArray()),
    };
  }

  restore(state: unknown): void {
    const s = checkState(StateSchema, state, 'novelty detector');
    const lags = fromBase64(s.lags);
    if (lags.length !== this.lags.length)
      throw new RangeError('novelty detector: the snapshot has another history length');
    this.values.load(fromBase64(s.values));
    this.calibration.load(fromBase64(s.calibration));
    this.lags.set(lags);
    this.seen = s.seen;
    this.cooling = s.cooling;
    this.coolingFrom = s.coolingFrom;
  }

  /** Earlier shapes the current one can be compared with (both complete). */
  private comparable(): number {
    return Math.max(0, Math.min(this.p.history, this.seen - 2 * (this.p.shape - 1) - 1));
  }

  /** Adds a reading and slides every lag's distance on by it. */
  private learn(x: number): void {
    const v = this.values;
    v.push(x);
    this.seen += 1;
    if ((this.seen - 1) % EXACT_EVERY === 0) {
      this.exactLags();
      return;
    }
    // Walking back from the newest value (x) and from the one leaving the shape (`out`,
    // `shape` readings before it), wrapping at the ring's start.
    const { buf, capacity } = v;
    const held = v.size;
    const newest = v.newestSlot;
    const shape = this.p.shape;
    const maxLag = Math.min(this.p.history, held - 1);
    const outLags = held - 1 - shape; // lags whose value before `out` is still held
    const out = held > shape ? (buf[(newest - shape + capacity) % capacity] as number) : 0;
    let i = newest; // the slot `lag` readings before x
    let j = (newest - shape + capacity) % capacity; // and before `out`
    const lags = this.lags;
    for (let lag = 1; lag <= maxLag; lag += 1) {
      i = i === 0 ? capacity - 1 : i - 1;
      j = j === 0 ? capacity - 1 : j - 1;
      const a = x - (buf[i] as number);
      let delta = a * a;
      if (lag <= outLags) {
        const b = out - (buf[j] as number);
        delta -= b * b;
      }
      lags[lag - 1] = (lags[lag - 1] as number) + delta;
    }
  }

  /** The lag distances from scratch (at start, and every EXACT_EVERY readings). */
  private exactLags(): void {
    const v = this.values;
    const last = v.size - 1;
    for (let lag = 1; lag <= this.p.history; lag += 1) {
      let s = 0;
      for (let i = 0; i < this.p.shape && last - i - lag >= 0; i += 1) {
        const e = v.at(last - i) - v.at(last - i - lag);
        s += e * e;
      }
      this.lags[lag - 1] = s;
    }
  }

  /**
   * The first calibration: each of the n earlier shapes scored against the others (leave one
   * out), as if they had been seen one by one; O(n^2 x shape), once per series.
   */
  private calibrate(n: number): void {
    const v = this.values;
    const last = v.size - 1;
    const d = this.p.shape;
    const distances = new Float64Array(n - 1);
    for (let a = 1; a <= n; a += 1) {
      let m = 0;
      for (let b = 1; b <= n; b += 1) {
        if (a === b) continue;
        let s = 0;
        for (let i = 0; i < d; i += 1) {
          const e = v.at(last - a - i) - v.at(last - b - i);
          s += e * e;
        }
        distances[m] = s;
        m += 1;
      }
      this.calibration.push(sumOfSmallest(distances, m, this.p.neighbours, scratch(this.p)));
    }
  }

  /** -log10 of the conformal p-value of `ncm` against the calibration scores. */
  private surprise(ncm: number): number {
    const { buf, size } = this.calibration;
    let atLeast = 0;
    let max = 0;
    for (let i = 0; i < size; i += 1) {
      const x = buf[i] as number;
      if (x >= ncm) atLeast += 1;
      if (x > max) max = x;
    }
    let p = (atLeast + 1) / (size + 1);
    if (atLeast === 0 && max > 0) p *= (max / ncm) ** BEYOND;
    return -Math.log10(p);
  }
}
