import { ID_PATTERN, MetricSchema } from '@iot-stream/contracts';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { IncomingReading } from './ports.ts';

/** The JSON data payload a device publishes on `iot/v1/{deviceId}/data` (see the protocol SPEC). */
const JsonDataSchema = Type.Object({
  session: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  seq: Type.Integer({ minimum: 0, maximum: 0xffff }),
  time: Type.Optional(Type.Integer({ minimum: 0 })),
  metrics: Type.Record(Type.String({ pattern: ID_PATTERN }), MetricSchema, {
    minProperties: 1,
    maxProperties: 64,
  }),
});
const check = TypeCompiler.Compile(JsonDataSchema);

const DATA_TOPIC = /^iot\/v1\/([A-Za-z0-9._-]{1,64})\/data$/;

export function deviceOfDataTopic(topic: string): string | undefined {
  return DATA_TOPIC.exec(topic)?.[1];
}

export type ParseOutcome =
  | { ok: true; reading: IncomingReading }
  | { ok: false; code: 'PAYLOAD_NOT_JSON' | 'PAYLOAD_INVALID'; reason: string };

/** Parses a JSON data payload. Never throws; a failure carries a stable code and a reason. */
export function parseJsonReading(
  deviceId: string,
  payload: Uint8Array | string,
  receivedAt: number,
): ParseOutcome {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'PAYLOAD_NOT_JSON', reason: (err as Error).message };
  }
  if (!check.Check(doc)) {
    const e = check.Errors(doc).First();
    return {
      ok: false,
      code: 'PAYLOAD_INVALID',
      reason: e ? `${e.path || '/'}: ${e.message}` : 'does not match the data schema',
    };
  }
  return {
    ok: true,
    reading: {
      deviceId,
      session: doc.session,
      seq: doc.seq,
      time: doc.time ?? receivedAt,
      receivedAt,
      metrics: doc.metrics,
    },
  };
}
