import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ID_PATTERN, TimeSchema } from './record.ts';

const Count = Type.Integer({ minimum: 0 });

/**
 * The status record a gateway sends every `kafka.statusIntervalMs` (Kafka topic
 * `iot.gateway-status`, or `POST /api/ingest/status` in single-box mode), keyed by gateway id.
 * Only what the hub reads is checked; a gateway may send more (it is kept out of the stores).
 */
export const GatewayStatusRecordSchema = Type.Object({
  kind: Type.Literal('gateway-status'),
  v: Type.Optional(Type.Literal(1)),
  gatewayId: Type.String({ pattern: ID_PATTERN }),
  /** The gateway's clock when it took the snapshot, epoch ms, within the record TIME range. */
  time: TimeSchema,
  version: Type.Optional(Type.String({ maxLength: 64 })),
  kafka: Type.Optional(Type.Object({ connected: Type.Optional(Type.Boolean()) })),
  outbox: Type.Optional(
    Type.Object({
      backlogRows: Type.Optional(Count),
      oldestReceivedAt: Type.Optional(Type.Union([TimeSchema, Type.Null()])),
      oldestAgeMs: Type.Optional(Type.Union([Count, Type.Null()])),
      quarantined: Type.Optional(Count),
      quarantinedByCode: Type.Optional(
        Type.Record(Type.String({ pattern: '^[A-Z0-9_]{1,64}$' }), Count, { maxProperties: 64 }),
      ),
    }),
  ),
  forwarder: Type.Optional(
    Type.Object({ forwarded: Type.Optional(Count), failures: Type.Optional(Count) }),
  ),
});

export type GatewayStatusRecord = Static<typeof GatewayStatusRecordSchema>;

const check = TypeCompiler.Compile(GatewayStatusRecordSchema);

export type StatusCheck = { ok: true; record: GatewayStatusRecord } | { ok: false; reason: string };

/** Validates a parsed status record. Never throws. */
export function checkStatusRecord(value: unknown): StatusCheck {
  if (check.Check(value)) return { ok: true, record: value };
  const first = check.Errors(value).First();
  return {
    ok: false,
    reason: first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema',
  };
}
