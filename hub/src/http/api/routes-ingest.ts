import {
  checkRecord,
  type GatewayStatusRecord,
  GatewayStatusRecordSchema,
  type ReadingRecord,
} from '@iot-stream/contracts';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppendResult } from '../../local/log.ts';
import { errorResponses } from './http-errors.ts';

/** Where ingested readings go: durably stored before the answer (see local/log.ts). */
export interface IngestTarget {
  append(records: readonly ReadingRecord[]): AppendResult;
  /** Keeps what failed validation, with the reason (the dead-letter store). */
  deadLetter(items: { value: unknown; code: string; reason: string }[]): Promise<void>;
  writeStatus(record: GatewayStatusRecord): Promise<void>;
}

export const MAX_INGEST_RECORDS = 10_000;
/**
 * The largest ingest body: 16 MiB, about 1.6 KiB per record at MAX_INGEST_RECORDS. A reading
 * with a few metrics is 250-600 bytes as JSON, so a full batch of ordinary readings is 3-6 MiB;
 * 16 MiB leaves room for records with many or long-named metrics while bounding what one
 * request (not rate limited) makes the hub parse and hold: a parsed body takes several times
 * its size in memory. A larger batch is answered 413 `BODY_TOO_LARGE`.
 */
export const MAX_INGEST_BYTES = 16 * 1024 * 1024;
/** A gateway status record is well under 4 KiB. */
export const MAX_STATUS_BYTES = 64 * 1024;
const INGEST_ERRORS = [
  'BAD_REQUEST',
  'BODY_NOT_JSON',
  'BODY_EMPTY',
  'BODY_TOO_DEEP',
  'BODY_FORBIDDEN_KEY',
  'BODY_LENGTH_MISMATCH',
  'UNAUTHORISED',
  'BODY_TOO_LARGE',
  'MEDIA_TYPE_UNSUPPORTED',
  'QUERY_FAILED',
] as const;
const IngestAnswer = Type.Object({
  accepted: Type.Integer({ description: 'records stored (durably) by this request' }),
  duplicates: Type.Integer({ description: 'records seen before, by (gatewayId, gatewaySeq)' }),
  invalid: Type.Array(
    Type.Object({
      index: Type.Integer({ description: 'position in `records`' }),
      code: Type.String(),
      reason: Type.String(),
    }),
    { description: 'records refused and kept as dead letters, with the reason' },
  ),
});

const IngestBody = Type.Object(
  { records: Type.Array(Type.Unknown(), { maxItems: MAX_INGEST_RECORDS }) },
  { additionalProperties: false },
);

/**
 * Single-box mode's uplink (the gateway's `uplink: hub`): `POST /api/ingest` takes a batch of
 * records (the Kafka record format), stores the valid ones durably and answers only then, so a
 * 200 means what acks=all means on the Kafka path. A resend is recognised by
 * (gatewayId, gatewaySeq) and counted as a duplicate; invalid records are kept as dead letters
 * with the reason and reported, so the gateway can let them go. Not rate limited.
 */
export async function ingestRoutes(app: FastifyInstance, target: IngestTarget) {
  app.post<{ Body: { records: unknown[] } }>(
    '/api/ingest',
    {
      bodyLimit: MAX_INGEST_BYTES,
      config: { rateLimit: false },
      schema: {
        summary: 'Ingest readings (single-box mode: the gateway forwards here)',
        description: `At most ${MAX_INGEST_RECORDS} records and ${MAX_INGEST_BYTES} bytes.`,
        body: IngestBody,
        response: { 200: IngestAnswer, ...errorResponses(...INGEST_ERRORS) },
      },
    },
    async (req) => {
      const valid: ReadingRecord[] = [];
      const invalid: { index: number; code: string; reason: string; value: unknown }[] = [];
      req.body.records.forEach((value, index) => {
        const r = checkRecord(value);
        if (r.ok) valid.push(r.record);
        else invalid.push({ index, code: r.code, reason: r.reason, value });
      });
      if (invalid.length > 0) await target.deadLetter(invalid);
      const result = target.append(valid);
      return {
        ...result,
        invalid: invalid.map(({ index, code, reason }) => ({ index, code, reason })),
      };
    },
  );
  app.post<{ Body: GatewayStatusRecord }>(
    '/api/ingest/status',
    {
      bodyLimit: MAX_STATUS_BYTES,
      config: { rateLimit: false },
      schema: {
        summary: 'A gateway status record (single-box mode)',
        body: GatewayStatusRecordSchema,
        response: {
          204: Type.Null({ description: 'stored' }),
          ...errorResponses(...INGEST_ERRORS),
        },
      },
    },
    async (req, reply) => {
      await target.writeStatus(req.body);
      return reply.code(204).send();
    },
  );
}
