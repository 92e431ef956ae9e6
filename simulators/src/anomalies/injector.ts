import type { MetricSpec } from '../profiles/types.ts';
import { exponential, type Random, streamFor } from '../random.ts';
import { parseInstant } from '../time-text.ts';
import { DEFAULT_MAGNITUDE, injectValue } from './inject.ts';
import { globMatch } from './spec.ts';
import type { AnomalyRule, AnomalyWindow, Label } from './types.ts';

export interface InjectorOptions {
  deviceId: string;
  metrics: readonly MetricSpec[];
  rules: readonly AnomalyRule[];
  seed: number;
  /** Start of the run (true time, epoch ms): offsets in rules count from here. */
  start: number;
  /** The device's reporting interval, for default window lengths. */
  intervalMs: number;
  /** True time -> the time the device stamps on readings (clock skew), for the labels. */
  stamp?: (t: number) => number;
  onLabel?: (label: Label) => void;
}

interface Stream {
  rule: AnomalyRule;
  metric: MetricSpec;
  random: Random;
  window: AnomalyWindow | undefined;
  labelled: boolean;
  held: number | undefined;
  occurrences: number;
  done: boolean;
}

/**
 * Injects the anomalies of a set of rules into one device's readings, deterministically: each
 * (rule, metric) has its own random stream and its own windows, planned lazily as time
 * advances. A window is labelled when the first reading inside it is taken, so a run that ends
 * before a window leaves no label for it.
 */
export class AnomalyInjector {
  private readonly streams: Stream[] = [];
  private readonly last = new Map<string, number>();

  constructor(private readonly options: InjectorOptions) {
    options.rules.forEach((rule, r) => {
      const { deviceId, seed } = options;
      if (rule.devices.length > 0 && !rule.devices.some((g) => globMatch(g, deviceId))) return;
      if (rule.fraction !== undefined) {
        if (streamFor(seed, 'anomaly-select', r, deviceId)() >= rule.fraction) return;
      }
      for (const metric of options.metrics) {
        if (rule.metrics.length > 0 && !rule.metrics.includes(metric.name)) continue;
        this.streams.push({
          rule,
          metric,
          random: streamFor(seed, 'anomaly', r, deviceId, metric.name),
          window: undefined,
          labelled: false,
          held: undefined,
          occurrences: 0,
          done: false,
        });
      }
    });
  }

  get active(): boolean {
    return this.streams.length > 0;
  }

  /**
   * The reported values at true time `t`: `values` with the windows covering `t` applied;
   * a missing key is a dropped reading. Call once per reading, in time order.
   */
  apply(t: number, values: Record<string, number>): Record<string, number | undefined> {
    const out: Record<string, number | undefined> = { ...values };
    for (const s of this.streams) {
      const w = this.windowAt(s, t);
      if (!w) continue;
      const name = s.metric.name;
      if (!s.labelled) {
        s.labelled = true;
        s.held = this.last.get(name) ?? values[name];
        this.label(w);
      }
      const v = out[name];
      if (v !== undefined) out[name] = injectValue(v, w, t, s.random, s.held);
    }
    for (const [name, v] of Object.entries(out)) if (v !== undefined) this.last.set(name, v);
    return out;
  }

  private windowAt(s: Stream, t: number): AnomalyWindow | undefined {
    while (!s.done && (s.window === undefined || t >= s.window.end)) this.plan(s);
    const w = s.window;
    return w && t >= w.start && t < w.end ? w : undefined;
  }

  private plan(s: Stream): void {
    const { rule } = s;
    const { start, intervalMs } = this.options;
    if (rule.count !== undefined && s.occurrences >= rule.count) {
      s.done = true;
      return;
    }
    let from: number;
    if (rule.at !== undefined) {
      if (s.occurrences > 0) {
        s.done = true;
        return;
      }
      from = parseInstant(rule.at, start, 'anomaly at');
    } else {
      const after = s.window ? s.window.end : start + (rule.after ?? 0);
      from = after + exponential(s.random, rule.every as number);
    }
    const defaultDuration = rule.type === 'spike' ? intervalMs : 20 * intervalMs;
    const duration = Math.max(1, rule.duration ?? (defaultDuration || 1000));
    const sign = s.random() < 0.5 ? -1 : 1;
    const magnitude =
      rule.magnitude ??
      (rule.type === 'noise-burst' ? 1 : sign) * DEFAULT_MAGNITUDE[rule.type] * s.metric.typical;
    const begin = Math.round(from);
    s.window = {
      type: rule.type,
      metric: s.metric.name,
      start: begin,
      end: begin + duration,
      magnitude,
    };
    s.labelled = false;
    s.occurrences += 1;
  }

  private label(w: AnomalyWindow): void {
    const stamp = this.options.stamp ?? ((t: number) => t);
    const label: Label = {
      device: this.options.deviceId,
      metric: w.metric,
      type: w.type,
      start: stamp(w.start),
      end: stamp(w.end),
    };
    if (w.type !== 'stuck' && w.type !== 'dropout') label.magnitude = w.magnitude;
    this.options.onLabel?.(label);
  }
}
