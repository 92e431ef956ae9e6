import {
  checkRecord,
  type GatewayStatusRecord,
  GatewayStatusRecordSchema,
  type ReadingRecord,
} from '@iot-stream/contracts';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppendResult } from '../local/log.ts';

/** Where ingested readings go: durably stored before the answer (see local/log.ts). */
export interface IngestTarget {
  append(records: readonly ReadingRecord[]): AppendResult;
  /** Keeps what failed validation, with the reason (the dead-letter store). */
  deadLetter(items: { value: unknown; code: string; reason: string }[]): Promise<void>;
  writeStatus(record: GatewayStatusRecord): Promise<void>;
}

export const MAX_INGEST_RECORDS = 10_000;

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
      bodyLimit: 32 * 1024 * 1024,
      config: { rateLimit: false },
      schema: {
        summary: 'Ingest readings (single-box mode: the gateway forwards here)',
        body: IngestBody,
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
      config: { rateLimit: false },
      schema: {
        summary: 'A gateway status record (single-box mode)',
        body: GatewayStatusRecordSchema,
      },
    },
    async (req, reply) => {
      await target.writeStatus(req.body);
      return reply.code(204).send();
    },
  );
}
