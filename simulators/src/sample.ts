import type { DataPayload } from './fleet.ts';
import type { MetricSpec } from './profiles/types.ts';

/** One reading as a device takes it, before a transport encodes it. */
export interface Sample {
  /** When the reading was taken, true time (epoch ms). */
  trueTime: number;
  /** The time the device stamps on it: true time plus the error of its clock. */
  time: number;
  /** Milliseconds since the device booted. */
  uptime: number;
  /** Quantised values (multiples of 10^scale), at least one. */
  values: Array<{ metric: MetricSpec; value: number }>;
}

/** What a device does at one moment: maybe reboot, then send zero or more readings. */
export interface Step {
  /** A new session id: the device rebooted just before this step [FP-3.7]. */
  reboot?: number;
  samples: Sample[];
}

/**
 * Where readings come from: a simulated device or a replayed file. `peek` gives the time of
 * the next step (simulated time, epoch ms) or undefined when there is none; `take` performs
 * it. `at` is the actual time for devices that report as fast as they can (interval 0).
 */
export interface ReadingSource {
  readonly id: string;
  readonly metrics: readonly MetricSpec[];
  /** The session id the device boots with. */
  readonly session: number;
  /** Reporting interval (ms); 0 means as fast as the transport takes readings. */
  readonly intervalMs: number;
  peek(): number | undefined | Promise<number | undefined>;
  take(at: number): Step | Promise<Step>;
  /** Readings held back (a burst in progress) to send before the device stops. */
  drain(): Sample[];
}

/** The protocol's JSON data form [FP-7.4] of a sample. */
export function toJsonReading(sample: Sample, session: number, seq: number): DataPayload {
  const metrics: DataPayload['metrics'] = {};
  for (const { metric, value } of sample.values) {
    metrics[metric.name] = metric.unit === '' ? { value } : { value, unit: metric.unit };
  }
  return { session, seq, time: sample.time, metrics };
}
