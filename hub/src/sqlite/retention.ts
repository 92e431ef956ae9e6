import { StoreError } from './errors.ts';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+)(ms|s|m|h|d|w)/g;

/**
 * An InfluxQL retention duration (`30d`, `1h30m`, `INF`) in milliseconds; undefined means
 * never (`INF`, or `0s`, which InfluxDB also reads as infinite).
 */
export function retentionMs(duration: string): number | undefined {
  if (duration.toUpperCase() === 'INF') return undefined;
  if (!DURATION.test(duration))
    throw new StoreError(
      'STORE_RETENTION_INVALID',
      `retention "${duration}" is not a duration like 30d, 12h, 2w or INF`,
    );
  let ms = 0;
  for (const [, n, unit] of duration.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit ?? ''] ?? 0);
  return ms === 0 ? undefined : ms;
}
