import { parseJsonData, parseTopic } from '@iot-stream/firmware-protocol';
import type { IncomingReading } from '../ports.ts';

/** The device id of a JSON data topic (`iot/v1/{deviceId}/data`, SPEC [FP-7]); else undefined. */
export function deviceOfDataTopic(topic: string): string | undefined {
  const parsed = parseTopic(topic);
  return parsed?.kind === 'data' ? parsed.deviceId : undefined;
}

export type ParseOutcome =
  | { ok: true; reading: IncomingReading }
  | { ok: false; code: string; reason: string };

/**
 * Parses a JSON data payload with the protocol's own parser. Never throws; a failure carries
 * the protocol's error code (`JSON_INVALID`, `PAYLOAD_INVALID`) and a reason naming the field.
 */
export function parseJsonReading(
  deviceId: string,
  payload: Uint8Array | string,
  receivedAt: number,
): ParseOutcome {
  const parsed = parseJsonData(payload);
  if (!parsed.ok) return parsed;
  const { session, seq, time, metrics } = parsed.reading;
  return {
    ok: true,
    reading: { deviceId, session, seq, time: time ?? receivedAt, receivedAt, metrics },
  };
}
