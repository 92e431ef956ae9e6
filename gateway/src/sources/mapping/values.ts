import { parseTimestamp } from '@iot-stream/contracts';

/**
 * What the mapping rules take as a number, and as a time. Pure: no I/O.
 */

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SWITCH: Readonly<Record<string, number>> = { on: 1, off: 0, true: 1, false: 0 };

/**
 * A metric value: a finite number; true/false as 1/0; text that is a decimal number (`"21.5"`,
 * as ESPHome and Shelly Gen1 publish them), or ON/OFF or true/false in any case, as 1/0.
 * Undefined for anything else.
 */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  return SWITCH[text.toLowerCase()];
}

/** What a number (or a text of digits) in a time field counts: epoch seconds or milliseconds. */
export type EpochUnit = 's' | 'ms';

/**
 * A device stamp, epoch ms: a number (or a text of digits) in `unit`, or an ISO 8601 text (a
 * date-time without an offset is UTC; contracts' parseTimestamp). Undefined when it is neither.
 * Whether the time is plausible is the device clock policy's to judge (device-clock.ts).
 */
export function timeOf(value: unknown, unit: EpochUnit): number | undefined {
  const scale = unit === 's' ? 1000 : 1;
  if (typeof value === 'number')
    return Number.isFinite(value) ? Math.round(value * scale) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * scale);
  return /^\d{4}-/.test(text) ? parseTimestamp(text) : undefined;
}
