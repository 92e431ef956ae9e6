import { gaussian, seededRandom } from './random.ts';

/** The JSON data payload of the protocol's MQTT mapping (`iot/v1/{deviceId}/data`). */
export interface DataPayload {
  session: number;
  seq: number;
  time: number;
  metrics: Record<string, { value: number; unit?: string }>;
}

export interface VirtualDevice {
  id: string;
  session: number;
  /** Next sequence number (16 bits, wraps). */
  seq: number;
  lastTime: number;
  baseTemperature: number;
  baseHumidity: number;
  random: () => number;
}

export interface FleetOptions {
  devices: number;
  seed: number;
  prefix: string;
}

export function createFleet(options: FleetOptions): VirtualDevice[] {
  const random = seededRandom(options.seed);
  return Array.from({ length: options.devices }, (_, i) => ({
    id: `${options.prefix}${String(i + 1).padStart(3, '0')}`,
    session: Math.floor(random() * 0xffffffff),
    seq: 0,
    lastTime: 0,
    baseTemperature: 18 + random() * 6,
    baseHumidity: 35 + random() * 20,
    random: seededRandom(options.seed * 7919 + i + 1),
  }));
}

const DAY_MS = 86_400_000;

/**
 * The device's next reading: a daily temperature cycle with noise, humidity moving against
 * it. Event times strictly increase per device, so no two readings share a timestamp.
 */
export function nextReading(device: VirtualDevice, now: number): DataPayload {
  const time = Math.max(now, device.lastTime + 1);
  device.lastTime = time;
  const phase = Math.sin((2 * Math.PI * (time % DAY_MS)) / DAY_MS);
  const temperature = device.baseTemperature + 3 * phase + 0.2 * gaussian(device.random);
  const humidity = device.baseHumidity - 5 * phase + 0.8 * gaussian(device.random);
  const payload: DataPayload = {
    session: device.session,
    seq: device.seq,
    time,
    metrics: {
      temperature: { value: round(temperature, 2), unit: 'Cel' },
      humidity: { value: round(Math.min(100, Math.max(0, humidity)), 1), unit: '%RH' },
    },
  };
  device.seq = (device.seq + 1) & 0xffff;
  return payload;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
