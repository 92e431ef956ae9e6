import { AnomalyInjector } from './anomalies/injector.ts';
import type { AnomalyRule, Label } from './anomalies/types.ts';
import { type BehaviourOptions, BehaviourPlan } from './behaviours.ts';
import { type MetricSpec, type Profile, quantise, type Site } from './profiles/types.ts';
import { type Random, randomU32, streamFor, uniform } from './random.ts';
import type { ReadingSource, Sample, Step } from './sample.ts';

/** One device of the fleet as configured. */
export interface DeviceSpec {
  /** Position in the fleet (0-based): the device's random streams derive from it. */
  index: number;
  id: string;
  profile: Profile;
  site: Site;
  /** Reporting interval (ms); 0: as fast as the transport takes readings. */
  intervalMs: number;
}

export interface SimDeviceOptions {
  seed: number;
  /** Start of the run, simulated time (epoch ms). */
  start: number;
  anomalies?: readonly AnomalyRule[];
  behaviours?: BehaviourOptions;
  onLabel?: (label: Label) => void;
  /** Spread first readings over one interval (default), or take them all at the start. */
  spread?: boolean;
}

/**
 * A simulated device: its profile's signal, the anomalies injected into it, and what its
 * firmware does (reboots, silences, bursts, a wrong clock). Pure apart from its own state:
 * time is passed in, and the same seed gives the same readings. The signal is computed at
 * every scheduled reading even while the device is silent, so behaviours and anomalies never
 * change the values of the other readings.
 */
export class SimDevice implements ReadingSource {
  readonly id: string;
  readonly metrics: readonly MetricSpec[];
  readonly intervalMs: number;
  session: number;
  /** Readings scheduled so far; counters for the summary. */
  taken = 0;
  reboots = 0;
  silences = 0;
  private readonly params: unknown;
  private readonly memory: Record<string, number> = {};
  private readonly signal: Random;
  private readonly schedule: Random;
  private readonly sessions: Random;
  private readonly plan: BehaviourPlan;
  private readonly injector: AnomalyInjector;
  private readonly first: number;
  private next: number;
  private last = Number.NEGATIVE_INFINITY;
  private bootTime: number;
  private held: Sample[] = [];
  private holding = 0;

  constructor(
    private readonly spec: DeviceSpec,
    private readonly options: SimDeviceOptions,
  ) {
    const { seed, start } = options;
    this.id = spec.id;
    this.metrics = spec.profile.metrics;
    this.intervalMs = spec.intervalMs;
    this.params = spec.profile.params(streamFor(seed, 'params', spec.index), spec.site, start);
    this.signal = streamFor(seed, 'signal', spec.index);
    this.schedule = streamFor(seed, 'schedule', spec.index);
    this.sessions = streamFor(seed, 'session', spec.index);
    this.plan = new BehaviourPlan(
      options.behaviours ?? {},
      streamFor(seed, 'behaviour', spec.index),
      start,
    );
    this.session = randomU32(this.sessions);
    this.bootTime = start - Math.round(uniform(this.schedule, 0, 3_600_000));
    this.first = start + (options.spread === false ? 0 : this.schedule() * spec.intervalMs);
    this.next = Math.round(this.first);
    this.injector = new AnomalyInjector({
      deviceId: spec.id,
      metrics: this.metrics,
      rules: options.anomalies ?? [],
      seed,
      start,
      intervalMs: spec.intervalMs,
      stamp: (t) => this.plan.stamp(t),
      onLabel: options.onLabel,
    });
  }

  get site(): Site {
    return this.spec.site;
  }

  /** The time of the next scheduled reading. */
  peek(): number {
    return this.intervalMs > 0 ? this.next : Math.max(this.next, this.last + 1);
  }

  /**
   * Takes the scheduled reading (at `at`, for a device without an interval) and returns what
   * the device sends now.
   */
  take(at: number = this.next): Step {
    const t = Math.max(this.intervalMs > 0 ? this.next : at, this.last + 1);
    this.last = t;
    this.taken += 1;
    this.next = Math.round(this.first + this.taken * this.intervalMs + this.nextJitter());
    const step: Step = { samples: [] };
    if (this.plan.rebootDue(t)) {
      this.session = randomU32(this.sessions);
      this.bootTime = t;
      this.reboots += 1;
      this.held = [];
      this.holding = 0;
      step.reboot = this.session;
    }
    const sample = this.sample(t);
    const silence = this.plan.silenceAt(t);
    if (silence) {
      if (silence.begins) {
        this.silences += 1;
        this.options.onLabel?.({
          device: this.id,
          metric: '*',
          type: 'silence',
          start: this.plan.stamp(silence.span.start),
          end: this.plan.stamp(silence.span.end),
        });
      }
      return step;
    }
    if (!sample) return step;
    if (this.holding === 0 && this.plan.burstDue(t)) this.holding = this.plan.burstSize;
    if (this.holding > 0) {
      this.held.push(sample);
      this.holding -= 1;
      if (this.holding > 0) return step;
      step.samples = this.held;
      this.held = [];
      return step;
    }
    step.samples = [sample];
    return step;
  }

  drain(): Sample[] {
    const held = this.held;
    this.held = [];
    this.holding = 0;
    return held;
  }

  /** Jitter for the next reading, from the schedule stream (never the signal's). */
  private nextJitter(): number {
    const j = this.options.behaviours?.jitterMs ?? 0;
    return j > 0 ? uniform(this.schedule, -j, j) : 0;
  }

  private sample(t: number): Sample | undefined {
    const raw = this.spec.profile.sample(this.params, t, this.signal, this.memory);
    const reported = this.injector.active ? this.injector.apply(t, raw) : raw;
    const values: Sample['values'] = [];
    for (const metric of this.metrics) {
      const v = reported[metric.name];
      if (v !== undefined && Number.isFinite(v))
        values.push({ metric, value: quantise(v, metric.scale) });
    }
    if (values.length === 0) return undefined;
    return { trueTime: t, time: this.plan.stamp(t), uptime: t - this.bootTime, values };
  }
}
