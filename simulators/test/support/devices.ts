import type { AnomalyRule, Label } from '../../src/anomalies/types.ts';
import type { BehaviourOptions } from '../../src/behaviours.ts';
import { type DeviceSpec, SimDevice } from '../../src/device.ts';
import { profileByName } from '../../src/profiles/index.ts';
import type { Sample } from '../../src/sample.ts';

export const START = Date.UTC(2026, 0, 5); // a Monday, 00:00 UTC

export function spec(profile: string, overrides: Partial<DeviceSpec> = {}): DeviceSpec {
  return {
    index: 0,
    id: 'dev-001',
    profile: profileByName(profile),
    site: { name: '', utcOffsetHours: 0, temperatureOffset: 0 },
    intervalMs: 60_000,
    ...overrides,
  };
}

export interface Taken {
  t: number;
  samples: Sample[];
  reboot?: number;
}

/** Takes `n` scheduled readings of a device, with or without anomalies and behaviours. */
export function takeReadings(
  s: DeviceSpec,
  n: number,
  options: { seed?: number; anomalies?: AnomalyRule[]; behaviours?: BehaviourOptions } = {},
): { steps: Taken[]; labels: Label[]; device: SimDevice } {
  const labels: Label[] = [];
  const device = new SimDevice(s, {
    seed: options.seed ?? 7,
    start: START,
    anomalies: options.anomalies ?? [],
    behaviours: options.behaviours ?? {},
    onLabel: (l) => labels.push(l),
    spread: false,
  });
  const steps: Taken[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = device.peek();
    const step = device.take(t);
    steps.push({
      t,
      samples: step.samples,
      ...(step.reboot === undefined ? {} : { reboot: step.reboot }),
    });
  }
  return { steps, labels, device };
}

/** metric -> value of one sample. */
export function valuesOf(sample: Sample | undefined): Record<string, number> {
  return Object.fromEntries((sample?.values ?? []).map((v) => [v.metric.name, v.value]));
}
