import type { Message } from 'kafkajs';
import type { EpisodeEvent } from '../detect/engine-types.ts';
import { boundDeadLetter } from '../store/dead-letters.ts';

/** An episode event for the anomalies topic, keyed by device (one device, one partition). */
export function episodeMessage(e: EpisodeEvent): Message {
  return {
    key: e.episode.deviceId,
    value: JSON.stringify({ v: 1, ...e }),
    headers: { 'iot-episode-id': e.episode.id, 'iot-episode-event': e.type },
  };
}

/**
 * A dead-letter record: the original bytes (or JSON), why, and where it came from; a value
 * over 4 KiB is kept as its prefix with its length and digest (dead-letters.ts), on every path.
 */
export function deadLetter(
  key: Buffer | string | null,
  value: Buffer | string | null,
  code: string,
  reason: string,
  sourceTopic: string,
  partition: number,
  offset?: string,
): Message {
  return boundDeadLetter({
    key,
    value,
    headers: {
      'iot-error-code': code,
      'iot-error-reason': reason,
      'iot-source-topic': sourceTopic,
      'iot-source-partition': String(partition),
      ...(offset === undefined ? {} : { 'iot-source-offset': offset }),
    },
  });
}
