// Building blocks of the signals: local time of day, daily cycles, slow weather-like variation
// and on/off schedules with exponential responses. All pure functions of time.
import type { Random } from '../random.ts';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Local hour of day in [0, 24). */
export function localHour(t: number, utcOffsetHours: number): number {
  const h = (t / HOUR + utcOffsetHours) % 24;
  return h < 0 ? h + 24 : h;
}

/** Local day of the week: 0 Sunday .. 6 Saturday (1970-01-01 was a Thursday). */
export function localWeekday(t: number, utcOffsetHours: number): number {
  const days = Math.floor((t + utcOffsetHours * HOUR) / DAY);
  return (((days + 4) % 7) + 7) % 7;
}

/** A daily cycle in [-1, 1] with its maximum at `peakHour` local time. */
export function dailyCycle(t: number, utcOffsetHours: number, peakHour: number): number {
  return Math.cos((2 * Math.PI * (localHour(t, utcOffsetHours) - peakHour)) / 24);
}

/** A bump in [0, 1] centred on `hour` (local) with the given width in hours (Gaussian). */
export function bump(t: number, utcOffsetHours: number, hour: number, widthHours: number): number {
  let d = Math.abs(localHour(t, utcOffsetHours) - hour);
  d = Math.min(d, 24 - d);
  return Math.exp(-(d * d) / (2 * widthHours * widthHours));
}

export interface Wave {
  periodMs: number;
  phase: number;
  amplitude: number;
}

/** Random slow waves (weather fronts, load swings): periods in [minMs, maxMs]. */
export function randomWaves(
  random: Random,
  count: number,
  minMs: number,
  maxMs: number,
  amplitude: number,
): Wave[] {
  return Array.from({ length: count }, () => ({
    periodMs: minMs + (maxMs - minMs) * random(),
    phase: 2 * Math.PI * random(),
    amplitude: amplitude * (0.5 + random()),
  }));
}

export function waves(t: number, list: readonly Wave[]): number {
  let sum = 0;
  for (const w of list) sum += w.amplitude * Math.sin((2 * Math.PI * t) / w.periodMs + w.phase);
  return sum;
}

/** A daily on-period, e.g. a machine shift or office occupancy, in local time. */
export interface Schedule {
  startHour: number;
  endHour: number;
  /** true: Monday to Friday only. */
  weekdaysOnly: boolean;
  utcOffsetHours: number;
}

function isWorkday(t: number, s: Schedule): boolean {
  const wd = localWeekday(t, s.utcOffsetHours);
  return !s.weekdaysOnly || (wd >= 1 && wd <= 5);
}

/** Whether the schedule is on at `t`. */
export function isOn(t: number, s: Schedule): boolean {
  const h = localHour(t, s.utcOffsetHours);
  return isWorkday(t, s) && h >= s.startHour && h < s.endHour;
}

/**
 * A first-order response to the schedule in [0, 1]: rises as 1 - e^(-on/tauUp) while on,
 * decays as e^(-off/tauDown) from where it was when the period ended. Looks back up to a week
 * for the last period, so it is a pure function of t.
 */
export function response(t: number, s: Schedule, tauUpMs: number, tauDownMs: number): number {
  const h = localHour(t, s.utcOffsetHours);
  const dayStart = t - h * HOUR;
  const length = (s.endHour - s.startHour) * HOUR;
  if (isOn(t, s)) return 1 - Math.exp(-(t - (dayStart + s.startHour * HOUR)) / tauUpMs);
  for (let back = 0; back <= 7; back += 1) {
    const start = dayStart - back * DAY + s.startHour * HOUR;
    const end = start + length;
    if (end > t || !isWorkday(start, s)) continue;
    const reached = 1 - Math.exp(-length / tauUpMs);
    return reached * Math.exp(-(t - end) / tauDownMs);
  }
  return 0;
}

/** A square wave in {0, 1}: on for `duty` of each period (a compressor's cycle). */
export function square(t: number, periodMs: number, duty: number, phase: number): number {
  const x = (((t / periodMs + phase) % 1) + 1) % 1;
  return x < duty ? 1 : 0;
}
