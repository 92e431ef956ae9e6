// A port of NAB's scorer (nab/sweeper.py, nab/optimizer.py, the normalisation in nab/runner.py;
// MIT licence, github.com/numenta/NAB) for fast in-process iteration over detectors. The
// reference stays ../shared/nab-dev/score, which runs NAB's own Python code; `run.ts --check`
// compares the two.

export interface Profile {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const PROFILES: Record<string, Profile> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

/** One labelled series: timestamps as NAB writes them, and its windows as row indices. */
export interface NabSeries {
  name: string;
  timestamps: string[];
  values: number[];
  /** [first, last] row index of each anomaly window, inclusive. */
  windows: [number, number][];
}

interface Point {
  score: number;
  sweep: number;
  /** Window id, or -1 outside windows; probationary rows are dropped. */
  window: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const scaledSigmoid = (p: number) => (p > 3 ? -1 : 2 * sigmoid(-5 * p) - 1);

/** The rows of one series with their sweep scores (nab/sweeper.py calcSweepScore). */
function sweepPoints(s: NabSeries, scores: readonly number[], p: Profile, windowBase: number) {
  const n = s.values.length;
  const maxTP = scaledSigmoid(-1);
  const probation = Math.min(Math.floor(0.15 * n), 0.15 * 5000);
  const out: Point[] = [];
  let w = 0;
  let cur: [number, number] | undefined;
  let prevRight: number | undefined;
  let prevWidth = 0;
  for (let i = 0; i < n; i += 1) {
    if (cur === undefined && w < s.windows.length && (s.windows[w] as [number, number])[0] === i)
      cur = s.windows[w] as [number, number];
    let sweep: number;
    if (cur !== undefined) {
      const width = cur[1] - cur[0] + 1;
      sweep = (scaledSigmoid(-(cur[1] - i + 1) / width) * p.tpWeight) / maxTP;
    } else {
      const u =
        prevRight === undefined ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      sweep = u * p.fpWeight;
    }
    if (i >= probation)
      out.push({ score: scores[i] as number, sweep, window: cur ? windowBase + w : -1 });
    if (cur !== undefined && i === cur[1]) {
      prevRight = i;
      prevWidth = cur[1] - cur[0] + 1;
      cur = undefined;
      w += 1;
    }
  }
  return out;
}

export interface NabResult {
  /** Normalised score: 0 = never alarming, 100 = perfect. */
  score: number;
  threshold: number;
  raw: number;
}

/**
 * NAB's result for one profile: the threshold on anomaly_score that maximises the corpus score
 * (every distinct score tried, as nab/optimizer.py), normalised against the null detector.
 */
export function nabScore(
  series: readonly NabSeries[],
  scores: readonly (readonly number[])[],
  p: Profile,
  /** Score at this threshold instead of the best one. */
  fixed?: number,
): NabResult {
  const points: Point[] = [];
  let windows = 0;
  series.forEach((s, k) => {
    points.push(...sweepPoints(s, scores[k] as number[], p, windows));
    windows += s.windows.length;
  });
  points.sort((a, b) => b.score - a.score);
  const best = new Float64Array(windows).fill(-p.fnWeight);
  let windowSum = -p.fnWeight * windows;
  let fp = 0;
  let bestScore = windowSum; // threshold above every score: nothing detected
  let bestThreshold = 1.1;
  for (let i = 0; i < points.length; i += 1) {
    const pt = points[i] as Point;
    if (pt.window < 0) fp += pt.sweep;
    else if (pt.sweep > (best[pt.window] as number)) {
      windowSum += pt.sweep - (best[pt.window] as number);
      best[pt.window] = pt.sweep;
    }
    const next = points[i + 1];
    if (next !== undefined && next.score === pt.score) continue;
    if (fixed !== undefined) {
      if (pt.score >= fixed) {
        bestScore = windowSum + fp;
        bestThreshold = fixed;
      }
      continue;
    }
    if (windowSum + fp > bestScore) {
      bestScore = windowSum + fp;
      bestThreshold = pt.score;
    }
  }
  // The null detector detects nothing: every window missed.
  const baseline = -p.fnWeight * windows;
  const perfect = windows * p.tpWeight;
  return {
    score: (100 * (bestScore - baseline)) / (perfect - baseline),
    threshold: bestThreshold,
    raw: bestScore,
  };
}
