import { CONTROL_HEADER, decodeRecord } from '@iot-stream/contracts';
import type { SourceBatch, SourceCounters } from '../ports.ts';

/** One fetched record as both Kafka clients give it, reduced to what the hub reads. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** It carries CONTROL_HEADER: a tick an older hub wrote to the readings log, not a reading. */
  legacyControl: boolean;
}

/** Whether a record's headers (kafkajs's object or @platformatic/kafka's Map) hold CONTROL_HEADER. */
export function hasControlHeader(
  headers: Record<string, unknown> | ReadonlyMap<unknown, unknown> | undefined,
): boolean {
  if (!headers) return false;
  if (headers instanceof Map) {
    for (const key of headers.keys()) if (String(key) === CONTROL_HEADER) return true;
    return false;
  }
  return (headers as Record<string, unknown>)[CONTROL_HEADER] !== undefined;
}

/**
 * Decodes one partition's fetched records into a batch (kafka-source.ts and
 * kafka-platformatic/reading-source.ts): readings in offset order, and records that fail
 * validation with their bytes and reason, for the dead letters. Legacy control records are
 * counted and skipped.
 */
export function decodeBatch(
  head: Pick<SourceBatch, 'partition' | 'lastOffset' | 'highWatermark' | 'fetchedFrom'>,
  records: Iterable<FetchedRecord>,
  counters: SourceCounters,
): SourceBatch {
  const batch: SourceBatch = { ...head, records: [], invalid: [] };
  for (const m of records) {
    if (m.legacyControl) {
      counters.legacyControl += 1;
      continue;
    }
    const d = decodeRecord(m.value);
    if (d.ok) batch.records.push({ offset: m.offset, record: d.record });
    else
      batch.invalid.push({
        offset: m.offset,
        value: m.value,
        key: m.key,
        code: d.code,
        reason: d.reason,
      });
  }
  return batch;
}

/** A reading source's counters, all zero. */
export function newSourceCounters(): SourceCounters {
  return { records: 0, invalid: 0, writeFailures: 0, batches: 0, legacyControl: 0 };
}
