/**
 * Times and durations as people write them, one grammar for every app and tool: the REST API's
 * `from`/`to`, backtest and replay CSVs, retention settings, the simulator's options.
 */

const ISO =
  /^(\d{4})-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Epoch milliseconds (digits only) or ISO-8601 (a date-time without an offset is UTC; a space
 * may stand for the T; fractions beyond milliseconds are cut); undefined when it is neither or
 * falls outside [min, max] (default: the years 0000 to 9999, which every Date can print).
 */
export function parseTimestamp(
  text: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const s = text.trim();
  let ms: number;
  if (/^\d{1,16}$/.test(s)) ms = Number(s);
  else {
    const m = ISO.exec(s);
    if (!m) return undefined;
    let iso = s.toUpperCase().replace(' ', 'T');
    if (iso.includes('T')) {
      if (m[2] === undefined) iso += 'Z';
      iso = iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/([+-]\d{2})$/, '$1:00');
      iso = iso.replace(/(\.\d{3})\d+/, '$1');
    }
    ms = Date.parse(iso);
  }
  const min = range.min ?? YEAR_0000;
  const max = range.max ?? YEAR_9999_END;
  return Number.isFinite(ms) && ms >= min && ms <= max ? ms : undefined;
}

/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, epoch ms. */
export const YEAR_0000 = -62_167_219_200_000;
export const YEAR_9999_END = 253_402_300_799_999;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PARTS = /^(?:\d+(?:\.\d+)?(?:ms|min|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|min|s|m|h|d|w)/g;

/**
 * A duration in ms: one or more number-unit parts (`500ms`, `10s`, `5m`, `1.5h`, `7d`, `2w`,
 * `1h30m`; `min` = `m`), or a bare number in `bareUnit` when one is given. Undefined otherwise
 * (negative, not finite, or not a duration). Callers restrict the shapes they take (integers
 * only, a single part) in their schemas.
 */
export function parseDuration(text: string, bareUnit?: keyof typeof UNIT_MS): number | undefined {
  const s = text.trim();
  let ms: number;
  if (bareUnit !== undefined && /^\d+(?:\.\d+)?$/.test(s))
    ms = Number(s) * (UNIT_MS[bareUnit] ?? 1);
  else {
    if (!PARTS.test(s)) return undefined;
    ms = 0;
    for (const [, n, unit] of s.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  }
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : undefined;
}
