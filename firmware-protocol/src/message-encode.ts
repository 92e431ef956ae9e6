// Payloads from typed bodies [FP-5.1]. Bodies from untrusted sources (JSON lines, MQTT) go
// through validateBody first; the same field tables as the decoder say what is valid.

import type { CborValue } from './cbor.ts';
import { cborEncode } from './cbor-encode.ts';
import {
  BODY_FIELDS,
  expectedWhat,
  type FieldSpec,
  MAX_READINGS,
  MAX_SENSORS,
  type Message,
  type MessageTypeName,
  SENSOR_FIELDS,
  textOk,
} from './messages.ts';

class Invalid {
  constructor(readonly reason: string) {}
}

function bad(path: string, what: string): never {
  throw new Invalid(`${path}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function toMap(obj: unknown, specs: FieldSpec[], path: string): Map<number, CborValue> {
  if (!isObject(obj)) bad(path, 'expected a map');
  const out = new Map<number, CborValue>();
  for (const spec of specs) {
    const v = Object.hasOwn(obj, spec.name) ? obj[spec.name] : undefined;
    const p = `${path}.${spec.name}`;
    if (v === undefined) {
      if (spec.required) bad(p, 'missing');
      continue;
    }
    out.set(spec.key, toField(spec, v, p));
  }
  return out;
}

function toField(spec: FieldSpec, v: unknown, p: string): CborValue {
  switch (spec.kind) {
    case 'u':
    case 'i':
      if (!Number.isSafeInteger(v) || (spec.kind === 'u' && (v as number) < 0)) {
        bad(p, `expected ${expectedWhat(spec.kind)}`);
      }
      if ((v as number) < spec.min! || (v as number) > spec.max!) bad(p, 'out of range');
      return (v as number) === 0 ? 0 : (v as number);
    case 'id':
    case 'print':
    case 'unit':
    case 'text':
      if (typeof v !== 'string') bad(p, 'expected text');
      if (!textOk(spec.kind, v)) bad(p, 'invalid text');
      return v;
    case 'sensors':
      return toSensors(v, p);
    case 'readings':
      return toReadings(v, p);
    case 'args':
      if (!isObject(v)) bad(p, 'expected a map');
      return toValue(v, p);
    case 'value':
      return toValue(v, p);
  }
}

function toSensors(v: unknown, p: string): CborValue {
  if (!Array.isArray(v)) bad(p, 'expected an array');
  if (v.length > MAX_SENSORS) bad(p, 'out of range');
  const seen = new Set<number>();
  return v.map((entry, i) => {
    const ep = `${p}[${i}]`;
    const m = toMap(entry, SENSOR_FIELDS, ep);
    const alias = m.get(0) as number;
    if (seen.has(alias)) bad(`${ep}.alias`, 'duplicate alias');
    seen.add(alias);
    return m;
  });
}

/** Readings are [alias, value] pairs in JSON and a map in CBOR, so they come out sorted. */
function toReadings(v: unknown, p: string): CborValue {
  if (!Array.isArray(v)) bad(p, 'expected an array');
  if (v.length > MAX_READINGS) bad(p, 'out of range');
  const m = new Map<number, CborValue>();
  v.forEach((pair, i) => {
    const ep = `${p}[${i}]`;
    if (!Array.isArray(pair) || pair.length !== 2) bad(ep, 'expected [alias, value]');
    const [alias, value] = pair as [unknown, unknown];
    if (!Number.isSafeInteger(alias) || (alias as number) < 0) {
      bad(`${ep}.alias`, 'expected an unsigned integer');
    }
    if ((alias as number) > 0xffff) bad(`${ep}.alias`, 'out of range');
    if (!Number.isSafeInteger(value)) bad(`${ep}.value`, 'expected an integer');
    if (m.has(alias as number)) bad(`${ep}.alias`, 'duplicate alias');
    m.set(alias as number, (value as number) === 0 ? 0 : (value as number));
  });
  return m;
}

function toValue(v: unknown, p: string): CborValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') {
    if (typeof v === 'string' && !textOk('text', v)) bad(p, 'invalid text');
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) bad(p, 'unsupported value');
    return v === 0 ? 0 : v;
  }
  if (Array.isArray(v)) return v.map((x) => toValue(x, p));
  if (isObject(v)) {
    const m = new Map<string, CborValue>();
    for (const [k, x] of Object.entries(v)) {
      if (!textOk('text', k)) bad(p, 'invalid text');
      m.set(k, toValue(x, p));
    }
    return m;
  }
  return bad(p, 'unsupported value');
}

export type BodyBytesResult = { ok: true; payload: Uint8Array } | { ok: false; reason: string };

/** Validates a body of the given type and encodes it deterministically; never throws. */
export function encodeBody(type: MessageTypeName, body: unknown): BodyBytesResult {
  try {
    const value = toMap(body, BODY_FIELDS[type], 'body');
    return { ok: true, payload: cborEncode(value) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.reason };
    if (e instanceof Error && 'code' in e) return { ok: false, reason: e.message };
    throw e;
  }
}

export function encodeMessage(m: Message): BodyBytesResult {
  return encodeBody(m.type, m.body);
}
