import { type Static, Type } from '@sinclair/typebox';
import { checkState } from '../state/state.ts';

/** How scores become episodes. All times are event times (or tick times) in ms. */
export interface EpisodeConfig {
  /** A score at or above this starts an episode (and marks the reading anomalous). */
  openAt: number;
  /** The episode ends once scores stay below this (<= openAt: hysteresis) for quietMs. */
  closeAt: number;
  /** Scores must stay >= openAt this long before the episode opens (0: at once). */
  minDurationMs: number;
  /** Scores must stay < closeAt this long before the episode closes (0: at once). */
  quietMs: number;
  /** An open episode is re-notified this often (0: never). */
  renotifyMs: number;
}

export type TransitionType = 'opened' | 'updated' | 'renotify' | 'closed';

/** A change in one series' episode; the engine adds rule, device and metric. */
export interface Transition {
  type: TransitionType;
  /** When it happened (the reading's event time, or the tick time). */
  time: number;
  /** The first reading at or above openAt. */
  start: number;
  /** The first reading of the quiet period that ended the episode; null while open. */
  end: number | null;
  peakScore: number;
  peakTime: number;
  /** Value of the peak reading; null when a tick (heartbeat) made the peak. */
  peakValue: number | null;
  reason?: 'recovered' | 'evicted';
}

/** The peak has to rise this much above the last notified peak for an `updated` event. */
export const UPDATE_STEP = 0.1;

const StateSchema = Type.Object({
  phase: Type.Union(['idle', 'pending', 'open', 'closing'].map((p) => Type.Literal(p))),
  since: Type.Number(),
  start: Type.Number(),
  peakScore: Type.Number(),
  peakTime: Type.Number(),
  peakValue: Type.Union([Type.Number(), Type.Null()]),
  notifiedAt: Type.Number(),
  notifiedPeak: Type.Number(),
  lastTime: Type.Union([Type.Number(), Type.Null()]),
});
export type EpisodeState = Static<typeof StateSchema> & {
  phase: 'idle' | 'pending' | 'open' | 'closing';
};

function idle(lastTime: number | null): EpisodeState {
  const s = { since: 0, start: 0, peakScore: 0, peakTime: 0, peakValue: null };
  return { phase: 'idle', ...s, notifiedAt: 0, notifiedPeak: 0, lastTime };
}

/**
 * Turns one series' scores into episodes without flapping: it opens after scores stayed at or
 * above openAt for minDurationMs, stays open while they are at or above the lower closeAt,
 * and closes after they stayed below closeAt for quietMs. An open episode is re-notified every
 * renotifyMs and reports `updated` when its peak rose by UPDATE_STEP. Deterministic; O(1)
 * state. Observations never go back in time: an older time counts as the newest seen.
 */
export class EpisodeTracker {
  private s: EpisodeState = idle(null);

  constructor(private readonly config: EpisodeConfig) {}

  get phase(): EpisodeState['phase'] {
    return this.s.phase;
  }

  /** True while an episode is open (including its quiet period before closing). */
  get isOpen(): boolean {
    return this.s.phase === 'open' || this.s.phase === 'closing';
  }

  observe(time: number, raw: number, value: number | null): Transition | undefined {
    const score = raw > 0 ? Math.min(raw, 1) : 0; // NaN counts as 0
    const s = this.s;
    const c = this.config;
    const t = s.lastTime === null ? time : Math.max(time, s.lastTime);
    s.lastTime = t;
    if (s.phase === 'idle' || s.phase === 'pending') {
      if (score < c.openAt) {
        if (s.phase === 'pending') this.s = idle(t);
        return undefined;
      }
      const first = s.phase === 'idle';
      if (first) Object.assign(s, { phase: 'pending', since: t, start: t });
      this.bump(t, score, value, first);
      if (t - s.since < c.minDurationMs) return undefined;
      Object.assign(s, { phase: 'open', notifiedAt: t, notifiedPeak: s.peakScore });
      return this.transition('opened', t);
    }
    if (score >= c.closeAt) {
      s.phase = 'open';
      this.bump(t, score, value, false);
      if (s.peakScore >= s.notifiedPeak + UPDATE_STEP) {
        s.notifiedPeak = s.peakScore;
        return this.transition('updated', t);
      }
      if (c.renotifyMs > 0 && t - s.notifiedAt >= c.renotifyMs) {
        s.notifiedAt = t;
        return this.transition('renotify', t);
      }
      return undefined;
    }
    if (s.phase === 'open') Object.assign(s, { phase: 'closing', since: t });
    return this.closeIfQuiet(t);
  }

  /** Lets time pass without a reading: closes an episode whose quiet period is over. */
  tick(now: number): Transition | undefined {
    return this.s.phase === 'closing' ? this.closeIfQuiet(now) : undefined;
  }

  /** Ends an open episode now (the series is being forgotten). */
  forceClose(time: number): Transition | undefined {
    if (!this.isOpen) return undefined;
    const t = Math.max(time, this.s.lastTime ?? time);
    const out = { ...this.transition('closed', t), end: t, reason: 'evicted' as const };
    this.s = idle(t);
    return out;
  }

  snapshot(): EpisodeState {
    return { ...this.s };
  }

  restore(state: unknown): void {
    this.s = { ...(checkState(StateSchema, state, 'episode tracker') as EpisodeState) };
  }

  private closeIfQuiet(t: number): Transition | undefined {
    if (t - this.s.since < this.config.quietMs) return undefined;
    const out = {
      ...this.transition('closed', t),
      end: this.s.since,
      reason: 'recovered' as const,
    };
    this.s = idle(Math.max(t, this.s.lastTime ?? t));
    return out;
  }

  private bump(t: number, score: number, value: number | null, first: boolean): void {
    if (first || score > this.s.peakScore) {
      Object.assign(this.s, { peakScore: score, peakTime: t, peakValue: value });
    }
  }

  private transition(type: TransitionType, time: number): Transition {
    const { start, peakScore, peakTime, peakValue } = this.s;
    return { type, time, start, end: null, peakScore, peakTime, peakValue };
  }
}
