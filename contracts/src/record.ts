import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The record the gateway writes to Kafka and the hub reads: JSON, one reading of one device,
 * keyed by device id. Documented in README.md ("Kafka record format"). Any change that is not
 * purely additive bumps RECORD_SCHEMA_VERSION.
 */
export const RECORD_SCHEMA_VERSION = 1;
/** Kafka header carrying the schema version, so consumers can route before parsing. */
export const RECORD_VERSION_HEADER = 'iot-record-version';

export const ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
const Id = Type.String({ pattern: ID_PATTERN });

/**
 * The range of times a record may carry, epoch ms: 2000-01-01T00:00:00Z up to (not including)
 * 2100-01-01T00:00:00Z. Anything outside is a clock fault (a device that booted at epoch 0, a
 * garbage stamp) and is refused where it enters, so it can never reach a store or a watermark
 * (InfluxDB takes 1677-2262 only; JavaScript dates end in 275760).
 */
export const TIME_MIN = 946_684_800_000;
export const TIME_MAX = 4_102_444_800_000;
/** An epoch-ms time inside [TIME_MIN, TIME_MAX). */
export const TimeSchema = Type.Integer({ minimum: TIME_MIN, exclusiveMaximum: TIME_MAX });

export function isSaneTime(time: number): boolean {
  return Number.isInteger(time) && time >= TIME_MIN && time < TIME_MAX;
}

export const MetricSchema = Type.Object(
  {
    value: Type.Number(),
    unit: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const ReadingRecordSchema = Type.Object({
  v: Type.Literal(RECORD_SCHEMA_VERSION),
  gatewayId: Id,
  /** Per-gateway sequence number: strictly increasing, never reused; (gatewayId, gatewaySeq) is unique. */
  gatewaySeq: Type.Integer({ minimum: 1 }),
  deviceId: Id,
  /** Where the gateway stands (its `site` setting), when configured. Added in v1 (optional). */
  site: Type.Optional(Id),
  /** The device's per-boot session id, when it sends one. */
  session: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff })),
  /** The device's per-session sequence number (wraps at 65536), when it sends one. */
  seq: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
  /** Event time: when the device measured, epoch milliseconds (UTC), within the TIME range. */
  time: TimeSchema,
  /** When the gateway received and stored the reading, epoch milliseconds (UTC). */
  receivedAt: TimeSchema,
  /**
   * The device's own stamp when the gateway replaced it (`clock.policy: restamp`): `time` is
   * then the gateway's receive time. Added in v1 (optional); any number, kept as evidence.
   */
  deviceTime: Type.Optional(Type.Number()),
  metrics: Type.Record(Type.String({ pattern: ID_PATTERN }), MetricSchema, {
    minProperties: 1,
    maxProperties: 64,
    // Without it a name outside the pattern passed with any value at all (null, a string).
    additionalProperties: false,
  }),
});

export type ReadingRecord = Static<typeof ReadingRecordSchema>;
export type Metric = Static<typeof MetricSchema>;

const check = TypeCompiler.Compile(ReadingRecordSchema);

export type DecodeResult =
  | { ok: true; record: ReadingRecord }
  | { ok: false; code: 'RECORD_NOT_JSON' | 'RECORD_INVALID' | 'RECORD_VERSION'; reason: string };

export function encodeRecord(record: ReadingRecord): string {
  return JSON.stringify(record);
}

/** Parses and validates one Kafka record value. Never throws. */
export function decodeRecord(value: Buffer | string | null): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value === null ? '' : value.toString());
  } catch (err) {
    return { ok: false, code: 'RECORD_NOT_JSON', reason: (err as Error).message };
  }
  return isPlainValid(parsed) ? { ok: true, record: parsed } : checkRecord(parsed);
}

const ID = new RegExp(ID_PATTERN);
const inRange = (t: unknown, min: number, max: number) =>
  Number.isInteger(t) && (t as number) >= min && (t as number) <= max;
const isTime = (t: unknown) => inRange(t, TIME_MIN, TIME_MAX - 1);
const isId = (s: unknown) => typeof s === 'string' && ID.test(s);
const isObject = (o: unknown): o is Record<string, unknown> =>
  typeof o === 'object' && o !== null && !Array.isArray(o);

/**
 * The schema check for what JSON.parse gives (own, enumerable, plain data properties only),
 * written out: TypeBox's compiled check lists the metrics' property names three times a record,
 * a tenth of what the hub allocated per record. True only where that check is true (a property
 * test compares them); anything it does not accept goes to the full check, which names the
 * fault. Not for other objects (non-enumerable or inherited properties): checkRecord is.
 */
function isPlainValid(r: unknown): r is ReadingRecord {
  if (!isObject(r) || r.v !== RECORD_SCHEMA_VERSION) return false;
  if (!isId(r.gatewayId) || !isId(r.deviceId) || !inRange(r.gatewaySeq, 1, Infinity)) return false;
  if (r.site !== undefined && !isId(r.site)) return false;
  if (r.session !== undefined && !inRange(r.session, 0, 0xffffffff)) return false;
  if (r.seq !== undefined && !inRange(r.seq, 0, 0xffff)) return false;
  if (!isTime(r.time) || !isTime(r.receivedAt)) return false;
  if (r.deviceTime !== undefined && !Number.isFinite(r.deviceTime)) return false;
  const metrics = r.metrics;
  if (!isObject(metrics)) return false;
  let n = 0;
  for (const name in metrics) {
    if (!Object.hasOwn(metrics, name) || !ID.test(name) || ++n > 64) return false;
    const m = metrics[name];
    if (!isObject(m) || !Number.isFinite(m.value)) return false;
    for (const key in m)
      if (!Object.hasOwn(m, key) || (key !== 'value' && key !== 'unit')) return false;
    if (m.unit !== undefined && (typeof m.unit !== 'string' || m.unit.length > 32)) return false;
  }
  return n >= 1;
}

/** Validates an already parsed record (the HTTP ingest path). Never throws. */
export function checkRecord(parsed: unknown): DecodeResult {
  if (check.Check(parsed)) return { ok: true, record: parsed };
  const v = (parsed as { v?: unknown } | null)?.v;
  if (typeof v === 'number' && v !== RECORD_SCHEMA_VERSION) {
    return { ok: false, code: 'RECORD_VERSION', reason: `unsupported record version ${v}` };
  }
  const first = check.Errors(parsed).First();
  const where = first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema';
  return { ok: false, code: 'RECORD_INVALID', reason: where };
}

/**
 * Hubs before 0.2 appended `tick` control records with this header to the readings topic;
 * readers skip such records. Nothing writes them any more: the topic holds only readings.
 */
export const CONTROL_HEADER = 'iot-control';
