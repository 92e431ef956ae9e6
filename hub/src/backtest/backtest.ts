import { Value } from '@sinclair/typebox/value';
import type { DetectorKind } from '../detect/detector.ts';
import { DetectionEngine } from '../detect/engine.ts';
import type { EpisodeConfig } from '../detect/episodes.ts';
import { globMatcher } from '../detect/glob.ts';
import { detectorParams, EpisodeSchema, type Rule } from '../detect/rules.ts';
import { RulesError } from '../state/errors.ts';

/** The device and metric a backtest's rows are fed to the detection engine as. */
export const BACKTEST_DEVICE = 'backtest';
export const BACKTEST_METRIC = 'value';

/**
 * `point`: anomaly = the reading's score reaches the rule's episode.openAt.
 * `episode`: anomaly = an episode is open after this reading (min duration, hysteresis and
 * quiet period applied, as notifications would be).
 */
export type BacktestMode = 'point' | 'episode';

export interface BacktestScore {
  /** The highest score of all rules for this reading. */
  score: number;
  anomaly: 0 | 1;
  /** Episodes this reading opened: the alerts a user would be notified of. */
  opened: number;
}

/** A rule for one detector with its default parameters (overridden by `params`). */
export function detectorRule(kind: DetectorKind, params: Record<string, unknown> = {}): Rule {
  const checked = detectorParams(kind, params);
  if (checked.errors.length > 0) {
    throw new RulesError(`invalid parameters for ${kind}:\n  ${checked.errors.join('\n  ')}`);
  }
  const episode = Value.Default(EpisodeSchema, {}) as EpisodeConfig;
  const rule: Rule = {
    id: kind,
    metric: [BACKTEST_METRIC],
    devices: null,
    detector: kind,
    params: checked.params,
    severity: 'warning',
    episode,
  };
  return rule;
}

/** The rules of a rules file that watch metric `value`; their device filters are ignored. */
export function backtestRules(rules: readonly Rule[]): Rule[] {
  return rules
    .filter((r) => globMatcher(r.metric)(BACKTEST_METRIC))
    .map((r) => ({ ...r, devices: null }));
}

/**
 * Scores a series of (time, value) readings with exactly the engine the hub runs live: each
 * row becomes a record of device `backtest` with one metric `value`.
 */
export class Backtest {
  private readonly engine: DetectionEngine;
  private readonly open = new Set<string>();
  private row = 0;

  constructor(
    rules: readonly Rule[],
    private readonly mode: BacktestMode = 'point',
  ) {
    this.engine = new DetectionEngine({ rules });
  }

  /** undefined: the row is older than the previous one and, as live, not scored. */
  score(time: number, value: number): BacktestScore | undefined {
    this.row += 1;
    const out = this.engine.process({
      v: 1,
      gatewayId: 'backtest',
      gatewaySeq: this.row,
      deviceId: BACKTEST_DEVICE,
      time,
      receivedAt: time,
      metrics: { [BACKTEST_METRIC]: { value } },
    });
    if (out.scores.length === 0) return undefined;
    let opened = 0;
    for (const e of out.events) {
      if (e.type === 'closed') this.open.delete(e.episode.ruleId);
      else this.open.add(e.episode.ruleId);
      if (e.type === 'opened') opened += 1;
    }
    const score = Math.max(...out.scores.map((s) => s.score));
    const anomaly =
      this.mode === 'episode' ? this.open.size > 0 : out.scores.some((s) => s.anomaly);
    return { score, anomaly: anomaly ? 1 : 0, opened };
  }
}
