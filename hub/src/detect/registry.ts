import type { TObject } from '@sinclair/typebox';
import { CusumDetector, CusumParamsSchema } from './cusum.ts';
import type { Detector, DetectorKind } from './detector.ts';
import { EwmaDetector, EwmaParamsSchema } from './ewma.ts';
import { FlatlineDetector, FlatlineParamsSchema } from './flatline.ts';
import { HeartbeatDetector, HeartbeatParamsSchema } from './heartbeat.ts';
import { NoveltyDetector, NoveltyParamsSchema } from './novelty.ts';
import { checkRangeParams, RangeDetector, RangeParamsSchema } from './range.ts';
import { RateDetector, RateParamsSchema } from './rate.ts';
import { RobustZScoreDetector, RobustZScoreParamsSchema } from './robust-zscore.ts';
import { TailGate } from './tail-gate.ts';
import { ZScoreDetector, ZScoreParamsSchema } from './zscore.ts';

export interface DetectorSpec {
  /** TypeBox schema of the parameters, with defaults; unknown keys are rejected. */
  params: TObject;
  /** Builds a detector from parameters already validated (and defaulted) by `params`. */
  create(params: Record<string, unknown>): Detector;
  /** Checks between parameters the schema cannot express; returns what is wrong. */
  check?(params: Record<string, unknown>): string | undefined;
  summary: string;
}

// The casts are safe: parseRules and detectorParams validate against `params` first.
// biome-ignore lint/suspicious/noExplicitAny: parameters are validated against the schema
type Any = any;

export const DETECTORS: Readonly<Record<DetectorKind, DetectorSpec>> = {
  range: {
    params: RangeParamsSchema,
    create: (p) => new RangeDetector(p as Any),
    check: (p) => checkRangeParams(p as Any),
    summary: 'value outside [min, max]',
  },
  rate: {
    params: RateParamsSchema,
    create: (p) => new RateDetector(p as Any),
    summary: 'change per second above a fixed or learned limit',
  },
  flatline: {
    params: FlatlineParamsSchema,
    create: (p) => new FlatlineDetector(p as Any),
    summary: 'stuck sensor: the same value for too many readings',
  },
  zscore: {
    params: ZScoreParamsSchema,
    create: (p) => new TailGate(new ZScoreDetector(p as Any), p.threshold as number),
    summary: 'distance from a forgetting mean, in standard deviations',
  },
  'robust-zscore': {
    params: RobustZScoreParamsSchema,
    create: (p) => new TailGate(new RobustZScoreDetector(p as Any), p.threshold as number),
    summary: 'distance from the median of a sliding window, in MADs',
  },
  ewma: {
    params: EwmaParamsSchema,
    create: (p) => new EwmaDetector(p as Any),
    summary: 'EWMA control chart: small sustained shifts',
  },
  cusum: {
    params: CusumParamsSchema,
    create: (p) => new CusumDetector(p as Any),
    summary: 'two-sided CUSUM: level shifts and drifts',
  },
  heartbeat: {
    params: HeartbeatParamsSchema,
    create: (p) => new HeartbeatDetector(p as Any),
    summary: 'silence longer than a few learned reporting intervals',
  },
  novelty: {
    params: NoveltyParamsSchema,
    create: (p) => new NoveltyDetector(p as Any),
    check: (p) =>
      (p.warmup as number) > (p.history as number) ? 'warmup is above history' : undefined,
    summary: 'the default: the recent shape is unlike anything in the recent history (calibrated)',
  },
};

/** The detector of a rule that names none, and of `iot-hub backtest` without one. */
export const DEFAULT_DETECTOR: DetectorKind = 'novelty';

export const DETECTOR_KINDS = Object.keys(DETECTORS) as DetectorKind[];

export function isDetectorKind(name: string): name is DetectorKind {
  return Object.hasOwn(DETECTORS, name);
}
