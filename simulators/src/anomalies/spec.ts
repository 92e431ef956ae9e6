// Anomaly rules from the command line (`--anomalies 'spike:metrics=temperature,every=10m'`) or
// from YAML (a list under `anomalies:`), normalised and checked the same way.
import { loadConfig } from '@iot-stream/contracts';
import { Type } from '@sinclair/typebox';
import { specError } from '../errors.ts';
import { parseDuration } from '../time-text.ts';
import { ANOMALY_TYPES, type AnomalyRule, type AnomalyType, TYPE_ALIASES } from './types.ts';

const KEYS: Record<string, keyof AnomalyRule> = {
  type: 'type',
  device: 'devices',
  devices: 'devices',
  metric: 'metrics',
  metrics: 'metrics',
  at: 'at',
  start: 'at',
  every: 'every',
  after: 'after',
  duration: 'duration',
  for: 'duration',
  magnitude: 'magnitude',
  count: 'count',
  fraction: 'fraction',
};

/**
 * Parses `TYPE[:key=value,...][;TYPE...]`. Lists inside a value are separated by `|`
 * (`devices=sim-001|sim-002`). Example: `spike:metrics=temperature,every=10m,magnitude=6`.
 */
export function parseAnomalySpec(text: string): AnomalyRule[] {
  const rules: AnomalyRule[] = [];
  const items = text.split(';').map((s) => s.trim());
  items.forEach((item, i) => {
    if (item === '') return;
    const where = `--anomalies item ${i + 1} (${JSON.stringify(item)})`;
    const colon = item.indexOf(':');
    const raw: Record<string, unknown> = { type: colon < 0 ? item : item.slice(0, colon) };
    const rest = colon < 0 ? '' : item.slice(colon + 1);
    for (const pair of rest.split(',').filter((p) => p.trim() !== '')) {
      const eq = pair.indexOf('=');
      if (eq < 0) throw specError(`${where}: expected key=value, got ${JSON.stringify(pair)}`);
      const key = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      raw[key] = key.startsWith('device') || key.startsWith('metric') ? value.split('|') : value;
    }
    rules.push(normaliseRule(raw, where));
  });
  return rules;
}

const RulesFileSchema = Type.Object(
  { anomalies: Type.Array(Type.Unknown()) },
  { additionalProperties: false },
);

/** Reads a YAML rules file: a mapping with `anomalies:`, a list of rules. */
export function readAnomalyFile(path: string): AnomalyRule[] {
  const file = loadConfig(RulesFileSchema, { file: path });
  return file.anomalies.map((raw, i) => normaliseRule(raw, `${path}: anomalies[${i}]`));
}

/** `--anomalies` takes a spec, or a path to a YAML file (ending in .yaml / .yml). */
export function anomalyRulesFrom(arg: string): AnomalyRule[] {
  return /\.ya?ml$/i.test(arg.trim()) ? readAnomalyFile(arg.trim()) : parseAnomalySpec(arg);
}

export function normaliseRule(input: unknown, where: string): AnomalyRule {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw specError(`${where}: expected a mapping of keys, got ${JSON.stringify(input)}`);
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const name = KEYS[key];
    if (!name) {
      throw specError(
        `${where}: unknown key ${JSON.stringify(key)}; keys: ${Object.keys(KEYS).join(', ')}`,
      );
    }
    raw[name] = value;
  }
  const rule: AnomalyRule = {
    type: anomalyType(raw.type, where),
    devices: list(raw.devices, `${where}: devices`),
    metrics: list(raw.metrics, `${where}: metrics`),
  };
  if (raw.at !== undefined) rule.at = String(raw.at);
  if (raw.every !== undefined) rule.every = duration(raw.every, `${where}: every`);
  if (raw.after !== undefined) rule.after = duration(raw.after, `${where}: after`);
  if (raw.duration !== undefined) rule.duration = duration(raw.duration, `${where}: duration`);
  if (raw.magnitude !== undefined) rule.magnitude = num(raw.magnitude, `${where}: magnitude`);
  if (raw.count !== undefined) {
    const n = num(raw.count, `${where}: count`);
    if (!Number.isInteger(n) || n < 1) throw specError(`${where}: count: expected an integer >= 1`);
    rule.count = n;
  }
  if (raw.fraction !== undefined) {
    const f = num(raw.fraction, `${where}: fraction`);
    if (f < 0 || f > 1) throw specError(`${where}: fraction: expected 0..1, got ${f}`);
    rule.fraction = f;
  }
  if ((rule.at === undefined) === (rule.every === undefined)) {
    throw specError(`${where}: give exactly one of at (one window) or every (repeated windows)`);
  }
  if (rule.every !== undefined && rule.every <= 0) {
    throw specError(`${where}: every: expected a duration above 0`);
  }
  return rule;
}

function anomalyType(value: unknown, where: string): AnomalyType {
  const text = String(value ?? '').trim();
  const type = (ANOMALY_TYPES as readonly string[]).includes(text)
    ? (text as AnomalyType)
    : TYPE_ALIASES[text];
  if (!type) {
    throw specError(
      `${where}: type: expected one of ${ANOMALY_TYPES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return type;
}

function list(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : String(value).split('|');
  const out = items.map((v) => String(v).trim()).filter((v) => v !== '' && v !== '*');
  if (out.some((v) => !/^[A-Za-z0-9._\-*?]+$/.test(v))) {
    throw specError(
      `${where}: expected names or globs of [A-Za-z0-9._-*?], got ${JSON.stringify(value)}`,
    );
  }
  return out;
}

function num(value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n) || String(value).trim() === '') {
    throw specError(`${where}: expected a number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Durations in rules: `10s`, `5m`, ...; a bare number is seconds. */
function duration(value: unknown, where: string): number {
  try {
    return parseDuration(typeof value === 'number' ? value : String(value), where, 's');
  } catch (err) {
    throw specError((err as Error).message);
  }
}

/** Glob match for device ids: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(text);
}
