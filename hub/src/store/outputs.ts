import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { DeadLetter } from '../ports.ts';
import { boundDeadLetter, ERROR_CODE_HEADER } from './dead-letters.ts';

/**
 * An output as both output adapters keep it (a Kafka message; a row of the local log): key,
 * value and string headers. The formats are documented in README ("Kafka record format",
 * dead-letter topic) and are the same on both paths.
 */
export interface OutputRecord {
  key: string | null;
  value: Buffer | string | null;
  headers: Record<string, string>;
}

/** A dead letter: the original bytes (or JSON), why, and where it came from; bounded in size. */
export function deadLetterRecord(d: DeadLetter): OutputRecord {
  return boundDeadLetter({
    key: d.key === null ? null : Buffer.isBuffer(d.key) ? d.key.toString() : d.key,
    value: d.value,
    headers: {
      [ERROR_CODE_HEADER]: d.code,
      'iot-error-reason': d.reason,
      'iot-source-topic': d.source.topic,
      'iot-source-partition': String(d.source.partition),
      ...(d.source.offset === undefined ? {} : { 'iot-source-offset': d.source.offset }),
    },
  });
}

/** An episode event for the anomalies output, keyed by device (one device, one partition). */
export function episodeRecord(e: EpisodeEvent): OutputRecord {
  return {
    key: e.episode.deviceId,
    value: JSON.stringify({ v: 1, ...e }),
    headers: { 'iot-episode-id': e.episode.id, 'iot-episode-event': e.type },
  };
}
