// Typed bodies from decoded CBOR [FP-5.1]: fields are checked in key order; unknown keys are
// ignored; the first failing check gives the reason (the C reference checks in the same order).

import type { CborValue } from './cbor.ts';
import {
  BODY_FIELDS,
  expectedWhat,
  type FieldSpec,
  type JsonValue,
  MAX_READINGS,
  MAX_SENSORS,
  type Message,
  type MessageTypeName,
  type Reading,
  SENSOR_FIELDS,
  type SensorDescription,
  textOk,
} from './messages.ts';

export type BodyResult = { ok: true; message: Message } | { ok: false; reason: string };

class ShapeFail {
  constructor(readonly reason: string) {}
}

function shape(path: string, what: string): never {
  throw new ShapeFail(`${path}: ${what}`);
}

function asMap(v: CborValue, path: string): Map<number | string, CborValue> {
  if (!(v instanceof Map)) shape(path, 'expected a map');
  return v;
}

function fields(
  m: Map<number | string, CborValue>,
  specs: FieldSpec[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const v = m.get(spec.key);
    if (v === undefined) {
      if (spec.required) shape(`${path}.${spec.name}`, 'missing');
      continue;
    }
    out[spec.name] = field(spec, v, path);
  }
  return out;
}

/** Checks one field; its path (built only on failure) is `${path}.${spec.name}`. */
function field(spec: FieldSpec, v: CborValue, path: string): unknown {
  switch (spec.kind) {
    case 'u':
    case 'i':
      if (typeof v !== 'number' || (spec.kind === 'u' && v < 0)) {
        shape(`${path}.${spec.name}`, `expected ${expectedWhat(spec.kind)}`);
      }
      if (v < spec.min! || v > spec.max!) shape(`${path}.${spec.name}`, 'out of range');
      return v;
    case 'id':
    case 'print':
    case 'unit':
    case 'text':
      if (typeof v !== 'string') shape(`${path}.${spec.name}`, 'expected text');
      if (!textOk(spec.kind, v)) shape(`${path}.${spec.name}`, 'invalid text');
      return v;
    case 'sensors':
      return sensors(v, `${path}.${spec.name}`);
    case 'readings':
      return readings(v, `${path}.${spec.name}`);
    case 'args': {
      const p = `${path}.${spec.name}`;
      return jsonValue(asMap(v, p), p);
    }
    case 'value':
      return jsonValue(v, `${path}.${spec.name}`);
  }
}

function sensors(v: CborValue, p: string): SensorDescription[] {
  if (!Array.isArray(v)) shape(p, 'expected an array');
  if (v.length > MAX_SENSORS) shape(p, 'out of range');
  const seen = new Set<number>();
  return v.map((entry, i) => {
    const ep = `${p}[${i}]`;
    const s = fields(asMap(entry, ep), SENSOR_FIELDS, ep) as unknown as SensorDescription;
    if (seen.has(s.alias)) shape(`${ep}.alias`, 'duplicate alias');
    seen.add(s.alias);
    return s;
  });
}

function readings(v: CborValue, p: string): Reading[] {
  const m = asMap(v, p);
  if (m.size > MAX_READINGS) shape(p, 'out of range');
  const out: Reading[] = [];
  let i = 0;
  for (const [alias, value] of m) {
    if (typeof alias !== 'number') shape(`${p}[${i}].alias`, 'expected an unsigned integer');
    if (alias > 0xffff) shape(`${p}[${i}].alias`, 'out of range');
    if (typeof value !== 'number') shape(`${p}[${i}].value`, 'expected an integer');
    out.push([alias, value]);
    i++;
  }
  return out;
}

/** Command arguments and results: JSON-like values, maps with text keys only [FP-5.9]. */
function jsonValue(v: CborValue, p: string): JsonValue {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
    return v;
  if (Array.isArray(v)) return v.map((x) => jsonValue(x, p));
  if (v instanceof Map) {
    const entries: Array<[string, JsonValue]> = [];
    for (const [k, x] of v) {
      if (typeof k !== 'string') shape(p, 'unsupported value');
      entries.push([k, jsonValue(x, p)]);
    }
    return Object.fromEntries(entries);
  }
  return shape(p, 'unsupported value');
}

/** Checks and converts the payload of a known message type; never throws. */
export function decodeBody(type: MessageTypeName, payload: CborValue): BodyResult {
  try {
    const m = asMap(payload, 'body');
    const body = fields(m, BODY_FIELDS[type], 'body');
    return { ok: true, message: { type, body } as unknown as Message };
  } catch (e) {
    if (e instanceof ShapeFail) return { ok: false, reason: e.reason };
    throw e;
  }
}
