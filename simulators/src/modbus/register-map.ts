// Pure: where a simulated device keeps each metric in its Modbus registers, and how a value
// becomes register words. The same map prints the gateway's `modbus:` config (gateway-config.ts),
// so what the simulator serves and what the gateway is told to read cannot drift apart.
import type { MetricSpec } from '../profiles/types.ts';

export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export type Order = 'big' | 'little';

/** `int`: each metric as a scaled integer of its own type (METRIC_TYPES); `float32`: IEEE floats. */
export type Encoding = 'int' | 'float32';

export interface RegisterMapOptions {
  encoding: Encoding;
  /** 32-bit values: big = high word at the lower address (the Modbus norm). */
  wordOrder: Order;
  /** Within each register: big = high byte first (the norm); little swaps every register. */
  byteOrder: Order;
}

export const DEFAULT_MAP_OPTIONS: RegisterMapOptions = {
  encoding: 'int',
  wordOrder: 'big',
  byteOrder: 'big',
};

/** One metric's place: `address` (zero-based, as on the wire), its type and words. */
export interface RegisterSlot {
  metric: MetricSpec;
  address: number;
  type: RegisterType;
  words: 1 | 2;
  /** What the gateway multiplies the raw value by: 10^metric.scale, or 1 for float32. */
  multiplier: number;
}

export interface RegisterMap {
  slots: readonly RegisterSlot[];
  options: RegisterMapOptions;
}

/**
 * The register type of each profile metric under the `int` encoding: chosen so that the
 * metric's range (anomalies included) fits the raw integer value / 10^scale. Signed where a
 * value may go below zero; 32 bits for counters and loads that outgrow 65535.
 */
export const METRIC_TYPES: Readonly<Record<string, RegisterType>> = {
  temperature: 'int16', // x0.01: -327.68..327.67 Cel
  humidity: 'int16', // x0.1: an injected shift may leave 0..100
  vibration_rms: 'uint16', // x0.001: 0..65.535 m/s2
  vibration_peak: 'uint16',
  bearing_temperature: 'int16', // x0.1
  power: 'uint32', // W
  voltage: 'uint16', // x0.1: 0..6553.5 V
  current: 'uint16', // x0.01: 0..655.35 A
  energy: 'uint32', // Wh, a counter that only grows
  co2: 'uint16', // ppm
  pm2_5: 'uint16', // x0.1
  tvoc: 'uint16', // ppb
};

/** A metric no profile declares (never, today): a signed 32-bit scaled integer. */
const FALLBACK_TYPE: RegisterType = 'int32';

/**
 * Register 0: how many samples the device has taken since it booted (uint16, wraps). Just
 * before the metrics, so one request reads it with them and both belong to the same sample.
 */
export const SAMPLE_COUNT_ADDRESS = 0;
/** The metrics start here, packed. */
export const FIRST_METRIC_ADDRESS = 1;
/** One past the last address a device may use (the map is refused beyond). */
export const MAP_END = 125;

const WIDTH: Readonly<Record<RegisterType, 1 | 2>> = {
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
};

/**
 * A device's map: the sample counter at 0, then its metrics in profile order from address 1,
 * packed with no gap, so one request (at most 125 registers) reads them all.
 */
export function registerMap(
  metrics: readonly MetricSpec[],
  options: RegisterMapOptions = DEFAULT_MAP_OPTIONS,
): RegisterMap {
  let address = FIRST_METRIC_ADDRESS;
  const slots = metrics.map((metric): RegisterSlot => {
    const type =
      options.encoding === 'float32' ? 'float32' : (METRIC_TYPES[metric.name] ?? FALLBACK_TYPE);
    const slot: RegisterSlot = {
      metric,
      address,
      type,
      words: WIDTH[type],
      multiplier: type === 'float32' ? 1 : multiplierOf(metric.scale),
    };
    address += slot.words;
    return slot;
  });
  if (address > MAP_END)
    throw new RangeError(`${metrics.length} metrics do not fit below address ${MAP_END}`);
  return { slots, options };
}

/** 10^scale as the decimal the gateway config shows (0.01, not 0.010000000000000002). */
export function multiplierOf(scale: number): number {
  return scale < 0 ? Number(`1e${scale}`) : 10 ** scale;
}

const LIMITS: Readonly<Record<Exclude<RegisterType, 'float32'>, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/**
 * The words of `value` (a quantised metric value) in `slot`: the raw integer value / 10^scale,
 * or the float. A raw value outside the type saturates at its limit (as a transmitter pins an
 * out-of-range reading), and `clipped` says so.
 */
export function encodeValue(
  slot: RegisterSlot,
  value: number,
  options: RegisterMapOptions,
): { words: number[]; clipped: boolean } {
  const bytes = Buffer.alloc(slot.words * 2);
  let clipped = false;
  if (slot.type === 'float32') {
    bytes.writeFloatBE(value, 0);
  } else {
    const [lo, hi] = LIMITS[slot.type];
    const raw = Math.round(value / slot.multiplier);
    const pinned = Math.min(hi, Math.max(lo, raw));
    clipped = pinned !== raw;
    if (slot.type === 'int16') bytes.writeInt16BE(pinned, 0);
    else if (slot.type === 'uint16') bytes.writeUInt16BE(pinned, 0);
    else if (slot.type === 'int32') bytes.writeInt32BE(pinned, 0);
    else bytes.writeUInt32BE(pinned, 0);
  }
  const words: number[] = [];
  for (let i = 0; i < slot.words; i += 1) {
    const w = bytes.readUInt16BE(i * 2);
    words.push(options.byteOrder === 'little' ? ((w & 0xff) << 8) | (w >> 8) : w);
  }
  if (options.wordOrder === 'little') words.reverse();
  return { words, clipped };
}

/** What the gateway reports for a value served in `slot` (float32 rounding, raw x multiplier). */
export function servedValue(slot: RegisterSlot, value: number): number {
  if (slot.type === 'float32') return Math.fround(value);
  const [lo, hi] = LIMITS[slot.type];
  return Math.min(hi, Math.max(lo, Math.round(value / slot.multiplier))) * slot.multiplier;
}
