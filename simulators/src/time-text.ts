import { usageError } from './errors.ts';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration: `250ms`, `10s`, `5m`, `1.5h`, `7d`, or a bare number in `bareUnit`
 * (milliseconds for `--interval`, seconds for `--duration`, as those flags always took).
 * Returns milliseconds; throws a usage error naming `what` otherwise.
 */
export function parseDuration(text: string | number, what: string, bareUnit = 'ms'): number {
  if (typeof text === 'number') return checkDuration(text * (UNITS[bareUnit] ?? 1), what, text);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$/.exec(text);
  if (!m) {
    throw usageError(
      `${what}: expected a duration such as 500ms, 10s, 5m, 2h or 1d, got ${JSON.stringify(text)}`,
    );
  }
  const unit = UNITS[m[2] ?? bareUnit] ?? 1;
  return checkDuration(Number(m[1]) * unit, what, text);
}

function checkDuration(ms: number, what: string, text: unknown): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw usageError(`${what}: expected a non-negative duration, got ${JSON.stringify(text)}`);
  }
  return Math.round(ms);
}

const ISO =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** Epoch milliseconds (digits only) or ISO-8601 (UTC when no offset); undefined otherwise. */
export function parseTimestamp(text: string): number | undefined {
  const s = text.trim();
  if (/^\d{1,16}$/.test(s)) return Number(s);
  const m = ISO.exec(s);
  if (!m) return undefined;
  let iso = s.toUpperCase().replace(' ', 'T');
  if (iso.includes('T')) {
    if (m[1] === undefined) iso += 'Z';
    iso = iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/([+-]\d{2})$/, '$1:00');
    iso = iso.replace(/(\.\d{3})\d+/, '$1');
  }
  const time = Date.parse(iso);
  return Number.isFinite(time) && time >= 0 ? time : undefined;
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
