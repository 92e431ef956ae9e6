/** IPC messages between the benchmark and its child processes (devices, naive forwarder). */

export type LoadMode =
  /** Publish `total` readings as fast as the devices' windows allow. */
  | { kind: 'burst'; total: number }
  /** Publish `rate` readings/s in total for `durationMs`; PUBACK times after `warmupMs`. */
  | { kind: 'rate'; rate: number; durationMs: number; warmupMs: number };

export interface LoadConfig {
  type: 'config';
  url: string;
  devices: number;
  /** QoS 1 publishes in flight per device (waiting for PUBACK). */
  window: number;
  /** `raw`: a minimal MQTT 3.1.1 publisher (lib/raw-mqtt.ts); `mqttjs`: mqtt.js. */
  client: 'raw' | 'mqttjs';
  /** Prefix of the device ids (`<prefix>-<n>`); unique per scenario. */
  prefix: string;
  mode: LoadMode;
}

export interface LoadDone {
  type: 'done';
  sent: number;
  acked: number;
  failed: number;
  /** Epoch ms of the first publish and of the last PUBACK. */
  firstPublishAt: number;
  lastAckAt: number;
  /** Epoch ms when the last reading was published. */
  lastPublishAt: number;
  /** Publish -> PUBACK (ms) of what was published after the warm-up, in `rate` mode. */
  ackLatencyMs?: { p50: number; p99: number; max: number; n: number };
}

export interface NaiveConfig {
  type: 'config';
  mqttUrl: string;
  brokers: string[];
  topic: string;
  /** How long to gather arriving messages into one Kafka send. */
  gatherMs: number;
}

export interface NaiveStats {
  type: 'stats';
  received: number;
  sent: number;
  failed: number;
  sends: number;
}

/** A message from a child: `ready` once it is set up, then its own results. */
export type ChildMessage = { type: 'ready' } | LoadDone | NaiveStats;
