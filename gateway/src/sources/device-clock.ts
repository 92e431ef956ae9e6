import { isSaneTime, TIME_MAX, TIME_MIN } from '@iot-stream/contracts';
import { Code } from '../errors.ts';
import type { IncomingReading } from '../ports.ts';

/** The gateway's `clock` settings: what a device stamp may be, and what to do when it is not. */
export interface ClockSettings {
  /** A stamp further ahead of the gateway's receive time than this is a clock fault. */
  maxAheadMs: number;
  /** A stamp further behind the receive time than this is a clock fault; 0 = no limit. */
  maxBehindMs: number;
  /** `quarantine`: keep the reading aside with the reason; `restamp`: store it at receive time. */
  policy: 'quarantine' | 'restamp';
}

export const DEFAULT_CLOCK: ClockSettings = {
  maxAheadMs: 300_000,
  maxBehindMs: 0,
  policy: 'quarantine',
};

/** Stable reason codes of a device clock fault (quarantine and restamp counters). */
export type ClockFaultCode =
  | typeof Code.TIME_INVALID
  | typeof Code.TIME_AHEAD
  | typeof Code.TIME_BEHIND;

export interface ClockFault {
  code: ClockFaultCode;
  reason: string;
}

/**
 * Judges a device's stamp against the gateway's receive time. Outside the record range
 * [TIME_MIN, TIME_MAX) (a clock never set: epoch 0 + uptime) is `TIME_INVALID`; further ahead
 * than `maxAheadMs` is `TIME_AHEAD` (it would move the device's watermark at the hub and make
 * its next correct readings too late); further behind than `maxBehindMs`, when set, is
 * `TIME_BEHIND`. Within range, the past is not judged by default: a device that buffered
 * offline sends old readings legitimately. Pure.
 */
export function clockFault(
  time: number,
  receivedAt: number,
  clock: ClockSettings,
): ClockFault | undefined {
  if (!isSaneTime(time)) {
    return {
      code: Code.TIME_INVALID,
      reason: `device time ${time} is outside ${iso(TIME_MIN)} .. ${iso(TIME_MAX)} (a clock that was never set?)`,
    };
  }
  const ahead = time - receivedAt;
  if (ahead > clock.maxAheadMs) {
    return {
      code: Code.TIME_AHEAD,
      reason: `device time ${iso(time)} is ${ahead} ms ahead of the gateway's receive time ${iso(receivedAt)}, more than clock.maxAheadMs (${clock.maxAheadMs})`,
    };
  }
  if (clock.maxBehindMs > 0 && -ahead > clock.maxBehindMs) {
    return {
      code: Code.TIME_BEHIND,
      reason: `device time ${iso(time)} is ${-ahead} ms behind the gateway's receive time ${iso(receivedAt)}, more than clock.maxBehindMs (${clock.maxBehindMs})`,
    };
  }
  return undefined;
}

export type ClockVerdict =
  | { kind: 'kept'; reading: IncomingReading }
  /** Stored at the gateway's receive time; `deviceTime` keeps what the device sent. */
  | { kind: 'restamped'; reading: IncomingReading; fault: ClockFault }
  | { kind: 'quarantine'; fault: ClockFault };

/** Applies the clock policy to a decoded reading. Pure. */
export function judgeReading(reading: IncomingReading, clock: ClockSettings): ClockVerdict {
  const fault = clockFault(reading.time, reading.receivedAt, clock);
  if (fault === undefined) return { kind: 'kept', reading };
  if (clock.policy === 'quarantine') return { kind: 'quarantine', fault };
  return {
    kind: 'restamped',
    reading: { ...reading, time: reading.receivedAt, deviceTime: reading.time },
    fault,
  };
}

/** ISO form for messages; the number itself when it is no valid date. */
function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
