import type { AnomalyRule, Label } from './anomalies/types.ts';
import type { BehaviourOptions } from './behaviours.ts';
import { scaledClock } from './clock.ts';
import { SimDevice } from './device.ts';
import type { DataPayload } from './fleet.ts';
import { buildDevices, type SiteConfig } from './fleet-config.ts';
import { type RunSummary, runFleet } from './runner.ts';
import { MqttTransport, type MqttTransportOptions } from './transports/mqtt-transport.ts';

export interface MqttFleetOptions {
  url: string;
  devices: number;
  /** Milliseconds between two readings of one device. */
  intervalMs: number;
  /** Readings per device; unbounded when undefined (then `durationMs` or `signal` stops it). */
  count?: number | undefined;
  durationMs?: number | undefined;
  seed: number;
  prefix: string;
  qos?: 0 | 1 | 2;
  signal?: AbortSignal | undefined;
  onAck?: (deviceId: string, payload: DataPayload) => void;
  onProgress?: ((summary: FleetSummary) => void) | undefined;
  now?: () => number;
  /** Device profile (default `climate`: temperature and humidity). */
  profile?: string;
  sites?: SiteConfig[];
  anomalies?: AnomalyRule[];
  behaviours?: BehaviourOptions;
  onLabel?: (label: Label) => void;
  /** Readings in flight per device (default 100). */
  window?: number;
  drainTimeoutMs?: number;
  auth?: Pick<MqttTransportOptions, 'username' | 'password' | 'ca' | 'cert' | 'key'>;
}

/** sent, acknowledged (PUBACK received), failed, elapsedMs, and more (see RunSummary). */
export type FleetSummary = RunSummary;

/**
 * Runs a virtual fleet: one MQTT connection per device (will, retained birth and `online`),
 * JSON readings at QoS 1 on `iot/v1/{id}/data` until the bound is hit.
 */
export async function runMqttFleet(options: MqttFleetOptions): Promise<FleetSummary> {
  const now = options.now ?? Date.now;
  const start = now();
  const specs = buildDevices({
    seed: options.seed,
    prefix: options.prefix,
    intervalMs: options.intervalMs,
    sites: options.sites ?? [],
    groups: [{ profile: options.profile ?? 'climate', count: options.devices }],
    behaviours: options.behaviours ?? {},
    anomalies: options.anomalies ?? [],
  });
  const sources = specs.map(
    (spec) =>
      new SimDevice(spec, {
        seed: options.seed,
        start,
        anomalies: options.anomalies ?? [],
        behaviours: options.behaviours ?? {},
        onLabel: options.onLabel,
      }),
  );
  return runFleet({
    sources,
    transport: new MqttTransport({ url: options.url, qos: options.qos ?? 1, ...options.auth }),
    clock: scaledClock(start, 1, now),
    count: options.count,
    durationMs: options.durationMs,
    window: options.window,
    drainTimeoutMs: options.drainTimeoutMs,
    signal: options.signal,
    wallNow: now,
    onProgress: options.onProgress,
    onAck: options.onAck,
  });
}
