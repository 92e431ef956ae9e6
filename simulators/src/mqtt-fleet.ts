import mqtt, { type MqttClient } from 'mqtt';
import { createFleet, type DataPayload, nextReading, type VirtualDevice } from './fleet.ts';

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
  onProgress?: (summary: FleetSummary) => void;
  now?: () => number;
}

export interface FleetSummary {
  devices: number;
  sent: number;
  acknowledged: number;
  failed: number;
  elapsedMs: number;
}

const topicOf = (deviceId: string) => `iot/v1/${deviceId}/data`;

/** Runs a virtual fleet: one MQTT connection per device, publishing until the bound is hit. */
export async function runMqttFleet(options: MqttFleetOptions): Promise<FleetSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const summary: FleetSummary = {
    devices: options.devices,
    sent: 0,
    acknowledged: 0,
    failed: 0,
    elapsedMs: 0,
  };
  const fleet = createFleet(options);
  const clients = await Promise.all(fleet.map((d) => connect(options.url, d.id)));
  const deadline =
    options.durationMs === undefined ? Number.POSITIVE_INFINITY : started + options.durationMs;
  const progress = setInterval(
    () => options.onProgress?.({ ...summary, elapsedMs: now() - started }),
    1000,
  );
  try {
    await Promise.all(
      fleet.map((device, i) =>
        runDevice(device, clients[i] as MqttClient, options, summary, deadline, now),
      ),
    );
  } finally {
    clearInterval(progress);
    await Promise.all(clients.map((c) => c.endAsync()));
  }
  summary.elapsedMs = now() - started;
  return summary;
}

async function runDevice(
  device: VirtualDevice,
  client: MqttClient,
  options: MqttFleetOptions,
  summary: FleetSummary,
  deadline: number,
  now: () => number,
): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let n = 0; options.count === undefined || n < options.count; n += 1) {
    if (options.signal?.aborted || now() >= deadline) break;
    const payload = nextReading(device, now());
    summary.sent += 1;
    pending.push(
      client
        .publishAsync(topicOf(device.id), JSON.stringify(payload), { qos: options.qos ?? 1 })
        .then(
          () => {
            summary.acknowledged += 1;
            options.onAck?.(device.id, payload);
          },
          () => {
            summary.failed += 1;
          },
        ),
    );
    await delay(options.intervalMs, options.signal);
  }
  await Promise.all(pending);
}

function connect(url: string, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) return void setImmediate(resolve);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
