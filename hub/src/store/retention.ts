import { IotError, parseDuration } from '@iot-stream/contracts';

const DURATION = /^(?:\d+(?:ms|s|m|h|d|w))+$/;

/**
 * An InfluxQL retention duration (`30d`, `1h30m`, `INF`) in milliseconds; undefined means
 * never (`INF`, or `0s`, which InfluxDB also reads as infinite).
 */
export function retentionMs(duration: string): number | undefined {
  if (duration.toUpperCase() === 'INF') return undefined;
  if (!DURATION.test(duration))
    throw new IotError(
      'STORE_RETENTION_INVALID',
      `retention "${duration}" is not a duration like 30d, 12h, 2w or INF`,
    );
  const ms = parseDuration(duration) ?? 0;
  return ms === 0 ? undefined : ms;
}
