// MQTT mapping [FP-7.1]..[FP-7.6]: topics, birth and state, JSON data, binary data, commands.
// MQTT 3.1.1 only: retained messages and the last will, no MQTT 5 properties.

import { type ErrorCode, fail } from './errors.ts';
import type { DataBody, HelloBody, JsonValue, SensorDescription } from './messages.ts';
import { ID_PATTERN, MAX_READINGS } from './messages.ts';

export const TOPIC_PREFIX = 'iot/v1';

/** Topic kinds under `iot/v1/{deviceId}/` [FP-7.1]. */
export const TOPIC_KINDS = [
  'birth',
  'state',
  'data',
  'data/bin',
  'cmd',
  'cmd/result',
  'log',
] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export const STATE_ONLINE = 'online';
export const STATE_OFFLINE = 'offline';

export function isValidDeviceId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function topicFor(deviceId: string, kind: TopicKind): string {
  return `${TOPIC_PREFIX}/${deviceId}/${kind}`;
}

export const dataTopic = (deviceId: string): string => topicFor(deviceId, 'data');
export const dataBinTopic = (deviceId: string): string => topicFor(deviceId, 'data/bin');
export const birthTopic = (deviceId: string): string => topicFor(deviceId, 'birth');
export const stateTopic = (deviceId: string): string => topicFor(deviceId, 'state');
export const cmdTopic = (deviceId: string): string => topicFor(deviceId, 'cmd');
export const cmdResultTopic = (deviceId: string): string => topicFor(deviceId, 'cmd/result');
export const logTopic = (deviceId: string): string => topicFor(deviceId, 'log');

/** Subscription filters for a consumer of every device [FP-7.1]. */
export const SUBSCRIPTIONS = {
  data: `${TOPIC_PREFIX}/+/data`,
  dataBin: `${TOPIC_PREFIX}/+/data/bin`,
  birth: `${TOPIC_PREFIX}/+/birth`,
  state: `${TOPIC_PREFIX}/+/state`,
  cmdResult: `${TOPIC_PREFIX}/+/cmd/result`,
  log: `${TOPIC_PREFIX}/+/log`,
} as const;

/** Splits a topic of this mapping; undefined for any other topic. */
export function parseTopic(topic: string): { deviceId: string; kind: TopicKind } | undefined {
  const prefix = `${TOPIC_PREFIX}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const deviceId = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (!isValidDeviceId(deviceId)) return undefined;
  if (!(TOPIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { deviceId, kind: kind as TopicKind };
}

/** The last will a device (or a gateway for itself) sets when it connects [FP-7.2]. */
export function lastWill(deviceId: string): {
  topic: string;
  payload: string;
  qos: 1;
  retain: true;
} {
  return { topic: stateTopic(deviceId), payload: STATE_OFFLINE, qos: 1, retain: true };
}

// ---- JSON data [FP-7.4] ----

export interface Metric {
  value: number;
  unit?: string;
}

export interface JsonReading {
  session?: number;
  seq: number;
  time?: number;
  metrics: Record<string, Metric>;
}

export type ParseResult<T> =
  | { ok: true; reading: T }
  | { ok: false; code: ErrorCode; reason: string };

/** Metrics in one JSON data message, as the gateway's record schema allows [FP-7.4]. */
export const MAX_METRICS = MAX_READINGS;
const decoder = new TextDecoder('utf-8', { fatal: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function uintIn(v: unknown, max: number): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
}

/** Parses and checks a JSON data payload; never throws [FP-7.4]. */
export function parseJsonData(payload: Uint8Array | string): ParseResult<JsonReading> {
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : decoder.decode(payload);
  } catch {
    return fail('JSON_INVALID', 'payload is not valid UTF-8');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail('JSON_INVALID', `payload is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(v)) return fail('PAYLOAD_INVALID', 'payload: expected an object');
  if (!uintIn(v.seq, 0xffff)) return fail('PAYLOAD_INVALID', 'seq: expected an integer 0..65535');
  const reading: JsonReading = { seq: v.seq as number, metrics: {} };
  if (v.session !== undefined) {
    if (!uintIn(v.session, 0xffff_ffff)) {
      return fail('PAYLOAD_INVALID', 'session: expected an integer 0..4294967295');
    }
    reading.session = v.session as number;
  }
  if (v.time !== undefined) {
    if (!uintIn(v.time, Number.MAX_SAFE_INTEGER)) {
      return fail('PAYLOAD_INVALID', 'time: expected epoch milliseconds (a non-negative integer)');
    }
    reading.time = v.time as number;
  }
  if (!isRecord(v.metrics)) return fail('PAYLOAD_INVALID', 'metrics: expected an object');
  const names = Object.keys(v.metrics);
  if (names.length === 0 || names.length > MAX_METRICS) {
    return fail('PAYLOAD_INVALID', `metrics: expected 1..${MAX_METRICS} metrics`);
  }
  const metrics: Array<[string, Metric]> = [];
  for (const name of names) {
    const m = v.metrics[name];
    const at = `metrics.${name}`;
    if (!ID_PATTERN.test(name)) {
      return fail('PAYLOAD_INVALID', `${at}: name must be 1..64 of [A-Za-z0-9._-]`);
    }
    if (!isRecord(m)) return fail('PAYLOAD_INVALID', `${at}: expected an object`);
    if (typeof m.value !== 'number' || !Number.isFinite(m.value)) {
      return fail('PAYLOAD_INVALID', `${at}.value: expected a finite number`);
    }
    const metric: Metric = { value: m.value };
    if (m.unit !== undefined) {
      if (typeof m.unit !== 'string' || m.unit.length > 32) {
        return fail('PAYLOAD_INVALID', `${at}.unit: expected text of at most 32 characters`);
      }
      metric.unit = m.unit;
    }
    metrics.push([name, metric]);
  }
  reading.metrics = Object.fromEntries(metrics);
  return { ok: true, reading };
}

export function formatJsonData(reading: JsonReading): string {
  return JSON.stringify(reading);
}

/** value = raw * 10^scale, computed by division for negative scales so that 215, -1 is 21.5. */
export function scaleValue(raw: number, scale = 0): number {
  return scale < 0 ? raw / 10 ** -scale : raw * 10 ** scale;
}

export type ReadingResult =
  | { ok: true; reading: JsonReading; unknownAliases: number[] }
  | { ok: false; code: ErrorCode; reason: string };

/**
 * Turns a binary data frame into the JSON form using the sensor descriptions of its session
 * [FP-6.6], [FP-7.4]. Readings with an alias that was never described are left out and listed
 * in `unknownAliases` so the caller can quarantine them and ask for a describe.
 */
export function dataToJson(
  frame: { session: number; seq: number; body: DataBody },
  sensors: ReadonlyMap<number, SensorDescription>,
  toEpoch?: (uptime: number) => number | undefined,
): ReadingResult {
  const reading: JsonReading = { session: frame.session, seq: frame.seq, metrics: {} };
  const time =
    frame.body.time ?? (frame.body.uptime === undefined ? undefined : toEpoch?.(frame.body.uptime));
  if (time !== undefined) reading.time = time;
  const unknownAliases: number[] = [];
  const metrics: Array<[string, Metric]> = [];
  for (const [alias, raw] of frame.body.readings) {
    const s = sensors.get(alias);
    if (!s) {
      unknownAliases.push(alias);
      continue;
    }
    const m: Metric = { value: scaleValue(raw, s.scale) };
    if (s.unit !== undefined) m.unit = s.unit;
    metrics.push([s.name, m]);
  }
  reading.metrics = Object.fromEntries(metrics);
  return { ok: true, reading, unknownAliases };
}

// ---- birth [FP-7.3] and commands [FP-7.6] ----

export interface Birth {
  deviceId: string;
  session: number;
  firmware: string;
  capabilities: number;
  /** The gateway that speaks for a serial device; absent for a device on MQTT itself. */
  via?: string;
  sensors: SensorDescription[];
}

export function buildBirth(
  hello: HelloBody,
  session: number,
  sensors: SensorDescription[],
  via?: string,
): Birth {
  const birth: Birth = {
    deviceId: hello.deviceId,
    session,
    firmware: hello.firmware,
    capabilities: hello.capabilities,
    sensors,
  };
  if (via !== undefined) birth.via = via;
  return birth;
}

export interface JsonCommand {
  id: number;
  name: string;
  args?: { [key: string]: JsonValue };
}

/** Parses a command published on `cmd`; never throws [FP-7.6]. */
export function parseJsonCommand(payload: Uint8Array | string): ParseResult<JsonCommand> {
  let v: unknown;
  try {
    v = JSON.parse(typeof payload === 'string' ? payload : decoder.decode(payload));
  } catch {
    return fail('JSON_INVALID', 'payload is not JSON');
  }
  if (!isRecord(v)) return fail('PAYLOAD_INVALID', 'payload: expected an object');
  if (!uintIn(v.id, 0xffff_ffff)) return fail('PAYLOAD_INVALID', 'id: expected 0..4294967295');
  if (typeof v.name !== 'string' || !ID_PATTERN.test(v.name)) {
    return fail('PAYLOAD_INVALID', 'name: must be 1..64 of [A-Za-z0-9._-]');
  }
  const cmd: JsonCommand = { id: v.id as number, name: v.name };
  if (v.args !== undefined) {
    if (!isRecord(v.args)) return fail('PAYLOAD_INVALID', 'args: expected an object');
    cmd.args = v.args as { [key: string]: JsonValue };
  }
  return { ok: true, reading: cmd };
}
