// The transport port: how readings leave a device. Adapters: MqttTransport (the protocol's MQTT
// mapping, SPEC section 7) and SerialTransport (the binary framing over a serial line).
import type { SensorDescription } from '@iot-stream/firmware-protocol';
import type { MetricSpec } from './profiles/types.ts';
import type { Sample } from './sample.ts';

export interface DeviceIdentity {
  id: string;
  firmware: string;
  metrics: readonly MetricSpec[];
}

/** The outcome of one reading: acknowledged (PUBACK, or an ack frame covering its seq) or not. */
export interface SendResult {
  ok: boolean;
  session: number;
  seq: number;
}

export interface Transport {
  readonly name: string;
  /** Connects or opens the device's link and introduces it (birth + online, hello + describe). */
  start(device: DeviceIdentity, session: number): Promise<void>;
  /** Sends one reading. Never rejects: resolves when it is acknowledged or has failed. */
  send(deviceId: string, sample: Sample): Promise<SendResult>;
  /** The device rebooted: a new session, seq from 0, introduced again. */
  reboot(deviceId: string, session: number): Promise<void>;
  /** The device stops: readings still unacknowledged resolve as failed. */
  stop(deviceId: string): Promise<void>;
  /** Transport-specific counters for the summary (retransmits, garbage bytes, ...). */
  counters(): Record<string, number>;
}

/** The sensor descriptions of a device's metrics: aliases 1..n in metric order [FP-5.3]. */
export function sensorsOf(metrics: readonly MetricSpec[]): SensorDescription[] {
  return metrics.map((m, i): SensorDescription => {
    const base = { alias: i + 1, name: m.name };
    return m.unit === '' ? { ...base, scale: m.scale } : { ...base, unit: m.unit, scale: m.scale };
  });
}
