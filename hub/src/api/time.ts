import { badRequest, type Reply } from './http-errors.ts';

export const HOUR = 3_600_000;
export const MAX_RANGE = 366 * 24 * HOUR;

/** Parses ISO-8601 or epoch milliseconds; undefined when it is neither. */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `30s`, `5m`, `1h`, `1d` in ms; undefined otherwise. */
export function parseEvery(text: string): number | undefined {
  const m = /^([1-9]\d{0,5})(s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * The `from` / `to` of a query (default: the last hour), or undefined after sending a 400
 * (`TIME_INVALID`, `RANGE_INVALID`, `RANGE_TOO_LONG`).
 */
export function timeRange(
  query: { from?: string | undefined; to?: string | undefined },
  now: number,
  reply: Reply,
  defaultSpan = HOUR,
): { from: number; to: number } | undefined {
  const to = query.to === undefined ? now : parseTime(query.to);
  if (to === undefined) return void invalidTime(reply, 'to', query.to);
  const from = query.from === undefined ? to - defaultSpan : parseTime(query.from);
  if (from === undefined) return void invalidTime(reply, 'from', query.from);
  if (from > to) return void badRequest(reply, 'RANGE_INVALID', '`from` is after `to`');
  if (to - from > MAX_RANGE)
    return void badRequest(reply, 'RANGE_TOO_LONG', 'the range may span at most 366 days');
  return { from, to };
}

function invalidTime(reply: Reply, key: string, value: unknown) {
  badRequest(
    reply,
    'TIME_INVALID',
    `\`${key}\` must be ISO-8601 or epoch milliseconds, got ${JSON.stringify(value)}`,
  );
}
