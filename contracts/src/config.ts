import { readFileSync } from 'node:fs';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.ts';

export interface LoadConfigOptions {
  /** YAML file to read; optional. */
  file?: string | undefined;
  /** The process environment (passed in; modules never read process.env themselves). */
  env?: Record<string, string | undefined>;
  /** Environment variable name -> dotted config key, e.g. { KAFKA_BROKERS: 'kafka.brokers' }. */
  envKeys?: Record<string, string>;
  /** Values that win over file and environment (command-line flags), as dotted keys. */
  overrides?: Record<string, unknown>;
}

/**
 * Loads one app's configuration: defaults from the schema, then the YAML file, then the
 * environment, then overrides; converts strings to the schema's types, validates once and
 * freezes. Errors name the key, the value and what was expected.
 */
export function loadConfig<T extends TSchema>(
  schema: T,
  options: LoadConfigOptions = {},
): Static<T> {
  const raw: Record<string, unknown> = options.file ? readYaml(options.file) : {};
  for (const [name, key] of Object.entries(options.envKeys ?? {})) {
    const value = options.env?.[name];
    if (value !== undefined && value !== '') setPath(raw, key, fromEnv(value));
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key, value);
  }
  const withDefaults = Value.Default(schema, Value.Clone(raw));
  const converted = Value.Convert(schema, withDefaults);
  const errors = [...Value.Errors(schema, converted)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => {
      const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
      return `  ${key}: ${e.message} (got ${JSON.stringify(e.value)})`;
    });
    const where = options.file ? ` in ${options.file} (or the environment)` : '';
    throw new ConfigError(`invalid configuration${where}:\n${lines.join('\n')}`);
  }
  return deepFreeze(converted as Static<T>);
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${file} must hold a mapping of keys at the top level`);
  }
  return doc as Record<string, unknown>;
}

/** Comma-separated environment values become lists; the schema conversion does the rest. */
function fromEnv(value: string): unknown {
  return value.includes(',') ? value.split(',').map((s) => s.trim()) : value;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
