import { RECORD_SCHEMA_VERSION, type ReadingRecord } from '@iot-stream/contracts';
import type { OutboxRow } from '../ports.ts';

/** An outbox row as the Kafka record format (README "Kafka record format"), for either uplink. */
export function recordOf(
  row: OutboxRow,
  gatewayId: string,
  site: string | undefined,
): ReadingRecord {
  return {
    v: RECORD_SCHEMA_VERSION,
    gatewayId,
    gatewaySeq: row.id,
    deviceId: row.deviceId,
    ...(site === undefined ? {} : { site }),
    ...(row.session === undefined ? {} : { session: row.session }),
    ...(row.seq === undefined ? {} : { seq: row.seq }),
    time: row.time,
    receivedAt: row.receivedAt,
    ...(row.deviceTime === undefined ? {} : { deviceTime: row.deviceTime }),
    metrics: row.metrics,
  };
}
