import { parseDuration, parseTimestamp, YEAR_0000, YEAR_9999_END } from '@iot-stream/contracts';
import { type TSchema, Type } from '@sinclair/typebox';
import { badRequest, type Reply } from './http-errors.ts';

export const HOUR = 3_600_000;
export const MAX_RANGE = 366 * 24 * HOUR;

/** The times a query may name: 0000-01-01T00:00:00Z up to 9999-12-31T23:59:59.999Z. */
export const QUERY_TIME_MIN = YEAR_0000;
export const QUERY_TIME_MAX = YEAR_9999_END;

/**
 * Parses ISO-8601 or epoch milliseconds; undefined when it is neither or lies outside
 * QUERY_TIME_MIN..QUERY_TIME_MAX (a JavaScript date ends in 275760; `9999999999999999` ms
 * would pass a digits-only check and then fail to print). The grammar is contracts' one.
 */
export function parseTime(text: string): number | undefined {
  return parseTimestamp(text);
}

/**
 * An epoch-ms time as ISO-8601, or null when a Date cannot hold it: for times read back from
 * a store, where a bad one must never fail the whole answer.
 */
export function isoOrNull(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

/** A time in an answer: ISO-8601, UTC. */
export const IsoTime = Type.String({ format: 'date-time' });
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** The `from` / `to` query parameters that `timeRange` reads; `span`: the default range. */
export function rangeParams(span: string) {
  const time = (description: string, examples: string[]) =>
    Type.Optional(
      Type.String({
        description: `ISO-8601 or epoch ms, year 0000 to 9999; default: ${description}`,
        examples,
      }),
    );
  return {
    from: time(`to - ${span}`, ['2026-11-22T11:00:00Z', '1763809200000']),
    to: time('now', ['2026-11-22T12:00:00Z', '1763812800000']),
  };
}

/** `30s`, `5m`, `1h`, `1d` in ms (one whole number, 1 to 6 digits, one unit); else undefined. */
export function parseEvery(text: string): number | undefined {
  return /^[1-9]\d{0,5}[smhd]$/.test(text) ? parseDuration(text) : undefined;
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
    `\`${key}\` must be ISO-8601 or epoch milliseconds, from year 0000 to 9999; got ${JSON.stringify(value)}`,
  );
}
