import { ID_PATTERN, type Metric } from '@iot-stream/contracts';
import { MAX_METRICS } from '@iot-stream/firmware-protocol';
import { Code } from '../../errors.ts';
import type { MappingFailure } from './failure.ts';
import { valueAt } from './json-path.ts';
import type { CompiledRule, RuleMatch } from './rules.ts';
import { resolveSenml } from './senml.ts';
import { numberOf, timeOf } from './values.ts';

/** A reading a mapping rule made of one message, before the ingest step stamps and commits it. */
export interface MappedReading {
  deviceId: string;
  seq?: number | undefined;
  /** Event time, epoch ms: the device's, or the receive time when it sent none. */
  time: number;
  metrics: Record<string, Metric>;
}

export type MapOutcome = { ok: true; readings: MappedReading[] } | ({ ok: false } & MappingFailure);

const ID = new RegExp(ID_PATTERN);
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Refused {
  constructor(readonly failure: MappingFailure) {}
}
const refuse = (code: MappingFailure['code'], reason: string): never => {
  throw new Refused({ code, reason });
};

/**
 * Turns one message that a rule matched into readings (none for an `ignore` rule), or says why
 * it cannot: a stable quarantine code and a reason naming the rule and the field. Never throws.
 * Pure: the receive time is passed in (the time of readings that carry none, and SenML's "now").
 */
export function mapMessage(
  { rule, captures }: RuleMatch,
  payload: Uint8Array | string,
  receivedAt: number,
): MapOutcome {
  try {
    if (rule.format === 'ignore') return { ok: true, readings: [] };
    const deviceId = checkName(captures.device ?? '', 'device id');
    const text = decode(payload);
    if (rule.format === 'value')
      return { ok: true, readings: [plainValue(rule, captures, deviceId, text, receivedAt)] };
    const json = parseJson(text);
    if (rule.format === 'senml') return { ok: true, readings: senml(deviceId, json, receivedAt) };
    return { ok: true, readings: [jsonReading(rule, deviceId, json, receivedAt)] };
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    const { code, reason } = err.failure;
    return { ok: false, code, reason: `rule ${rule.name}: ${reason}` };
  }
}

function decode(payload: Uint8Array | string): string {
  if (typeof payload === 'string') return payload;
  try {
    return utf8.decode(payload);
  } catch {
    return refuse(Code.MAPPING_JSON_INVALID, 'payload is not UTF-8 text');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return refuse(Code.MAPPING_JSON_INVALID, `payload is not JSON: ${(err as Error).message}`);
  }
}

function checkName(name: string, what: string): string {
  if (!ID.test(name))
    refuse(
      Code.MAPPING_NAME_INVALID,
      `${what} ${JSON.stringify(name.slice(0, 80))} is not 1..64 of [A-Za-z0-9._-]`,
    );
  return name;
}

/** ESPHome, Shelly Gen1: the payload is the value (21.5, ON), the metric named by the rule or the topic. */
function plainValue(
  rule: CompiledRule,
  captures: RuleMatch['captures'],
  deviceId: string,
  text: string,
  receivedAt: number,
): MappedReading {
  const name = checkName(
    rule.metric === '{metric}' ? (captures.metric ?? '') : rule.metric,
    'metric name',
  );
  const value = numberOf(text);
  if (value === undefined)
    refuse(
      Code.MAPPING_NOT_A_NUMBER,
      `payload ${JSON.stringify(text.slice(0, 40))} is not a number or ON/OFF`,
    );
  const unit = rule.units[name];
  return {
    deviceId,
    time: receivedAt,
    metrics: { [name]: { value: value as number, ...(unit ? { unit } : {}) } },
  };
}

/** Tasmota, Shelly Gen2, Zigbee2MQTT: metrics, time and seq at the rule's paths. */
function jsonReading(
  rule: CompiledRule,
  deviceId: string,
  json: unknown,
  receivedAt: number,
): MappedReading {
  const metrics: Record<string, Metric> = {};
  for (const m of rule.metrics) {
    const found = valueAt(json, m.path);
    // An optional metric may be absent, or null (Zigbee2MQTT's "not known yet").
    if (m.optional && (found === undefined || found === null)) continue;
    if (found === undefined)
      refuse(Code.MAPPING_PATH_MISSING, `metric ${m.name}: nothing at ${m.path.join('.')}`);
    const value = numberOf(found);
    if (value === undefined)
      refuse(
        Code.MAPPING_NOT_A_NUMBER,
        `metric ${m.name}: ${JSON.stringify(found)?.slice(0, 40)} is not a number`,
      );
    metrics[m.name] = { value: value as number, ...(m.unit ? { unit: m.unit } : {}) };
  }
  if (Object.keys(metrics).length === 0)
    refuse(
      Code.MAPPING_PATH_MISSING,
      `none of the metrics (${rule.metrics.map((m) => m.name).join(', ')}) is in the payload`,
    );
  let time = receivedAt;
  if (rule.time) {
    const found = valueAt(json, rule.time.path);
    if (found === undefined)
      refuse(Code.MAPPING_PATH_MISSING, `time: nothing at ${rule.time.path.join('.')}`);
    const parsed = timeOf(found, rule.time.unit);
    if (parsed === undefined)
      refuse(
        Code.MAPPING_TIME_INVALID,
        `time ${JSON.stringify(found)?.slice(0, 40)} is not ISO 8601 or epoch ${rule.time.unit}`,
      );
    time = parsed as number;
  }
  let seq: number | undefined;
  if (rule.seq) {
    const found = valueAt(json, rule.seq);
    if (found === undefined)
      refuse(Code.MAPPING_PATH_MISSING, `seq: nothing at ${rule.seq.join('.')}`);
    if (!Number.isInteger(found) || (found as number) < 0 || (found as number) > 0xffff)
      refuse(
        Code.MAPPING_SEQ_INVALID,
        `seq ${JSON.stringify(found)?.slice(0, 40)} is not an integer 0..65535`,
      );
    seq = found as number;
  }
  return { deviceId, time, metrics, ...(seq === undefined ? {} : { seq }) };
}

/**
 * A SenML pack: one reading per distinct time, its metrics named by the resolved names, with
 * `:` and `/` (SenML name characters that metric names lack) written as `.`.
 */
function senml(deviceId: string, json: unknown, receivedAt: number): MappedReading[] {
  const resolved = resolveSenml(json, receivedAt);
  if (!resolved.ok) return refuse(resolved.code, resolved.reason);
  const byTime = new Map<number, Record<string, Metric>>();
  for (const r of resolved.records) {
    const name = checkName(r.name.replace(/[:/]/g, '.'), 'metric name');
    const metrics = byTime.get(r.time) ?? {};
    if (Object.hasOwn(metrics, name)) refuse(Code.SENML_INVALID, `${r.name} twice at one time`);
    metrics[name] = { value: r.value, ...(r.unit ? { unit: r.unit } : {}) };
    if (Object.keys(metrics).length > MAX_METRICS)
      refuse(Code.SENML_INVALID, `more than ${MAX_METRICS} values at one time`);
    byTime.set(r.time, metrics);
  }
  return [...byTime].map(([time, metrics]) => ({ deviceId, time, metrics }));
}
