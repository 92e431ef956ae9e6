/**
 * Event-time bookkeeping for one device. The watermark is "the event time up to which this
 * device's readings are assumed complete": the greatest event time seen minus the bounded
 * out-of-orderness. A reading older than the watermark is late; one older than the watermark
 * minus the allowed lateness is too late (counted and dead-lettered, never aggregated).
 */

/** No reading seen yet: every reading is on time. */
export const NO_WATERMARK = Number.NEGATIVE_INFINITY;

export type Lateness = 'on-time' | 'late' | 'too-late';

export function watermarkOf(maxEventTime: number | null, maxOutOfOrdernessMs: number): number {
  return maxEventTime === null ? NO_WATERMARK : maxEventTime - maxOutOfOrdernessMs;
}

/**
 * Classifies a reading's event time against the device's watermark:
 * `time >= watermark` on time; `watermark - allowedLatenessMs <= time < watermark` late (it
 * still corrects the windows it belongs to); anything older is too late.
 */
export function classifyLateness(
  time: number,
  watermark: number,
  allowedLatenessMs: number,
): Lateness {
  if (time >= watermark) return 'on-time';
  return time >= watermark - allowedLatenessMs ? 'late' : 'too-late';
}
