import {
  parseDuration as parseDurationText,
  parseTimestamp as parseTime,
} from '@iot-stream/contracts';
import { usageError } from './errors.ts';

/**
 * Parses a duration: `250ms`, `10s`, `5m`, `1.5h`, `7d`, or a bare number in `bareUnit`
 * (milliseconds for `--interval`, seconds for `--duration`, as those flags always took).
 * Returns milliseconds; throws a usage error naming `what` otherwise.
 */
export function parseDuration(
  text: string | number,
  what: string,
  bareUnit: 'ms' | 's' = 'ms',
): number {
  const ms =
    typeof text === 'number'
      ? text * (bareUnit === 's' ? 1000 : 1)
      : parseDurationText(text, bareUnit);
  if (ms === undefined) {
    throw usageError(
      `${what}: expected a duration such as 500ms, 10s, 5m, 2h or 1d, got ${JSON.stringify(text)}`,
    );
  }
  return checkDuration(ms, what, text);
}

function checkDuration(ms: number, what: string, text: unknown): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw usageError(`${what}: expected a non-negative duration, got ${JSON.stringify(text)}`);
  }
  return Math.round(ms);
}

/** Epoch milliseconds (digits only) or ISO-8601 (UTC when no offset); undefined otherwise. */
export function parseTimestamp(text: string): number | undefined {
  return parseTime(text, { min: 0 });
}

/**
 * A point in time: ISO-8601 or epoch milliseconds (12 digits or more) are absolute; a duration
 * (`5m`, `+90s`, a bare number of seconds) is an offset from `start`.
 */
export function parseInstant(text: string | number, start: number, what: string): number {
  if (typeof text === 'number') return text >= 1e11 ? text : start + text * 1000;
  const s = text.trim();
  if (!s.startsWith('+')) {
    const absolute = /^\d{12,16}$/.test(s) || s.includes('-') ? parseTimestamp(s) : undefined;
    if (absolute !== undefined) return absolute;
  }
  return start + parseDuration(s.replace(/^\+/, ''), what, 's');
}
