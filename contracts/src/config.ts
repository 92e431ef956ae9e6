import { readFileSync } from 'node:fs';
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { objectKeys, schemaAt } from './config-keys.ts';
import { type UnknownKey, unknownKeys } from './config-strict.ts';
import { ConfigError } from './errors.ts';

export interface LoadConfigOptions {
  /** YAML file to read; optional. */
  file?: string | undefined;
  /** The process environment (passed in; modules never read process.env themselves). */
  env?: Record<string, string | undefined>;
  /**
   * Environment variable name -> dotted config key, e.g. { KAFKA_BROKERS: 'kafka.brokers' }.
   * Each may also be given as `NAME_FILE`: the path of a file holding the value (systemd
   * credentials, Docker secrets); one trailing newline is dropped.
   */
  envKeys?: Record<string, string>;
  /** Values that win over file and environment (command-line flags), as dotted keys. */
  overrides?: Record<string, unknown>;
}

/**
 * Loads one app's configuration: defaults from the schema, then the YAML file, then the
 * environment, then overrides; converts strings to the schema's types, validates once and
 * freezes. A key the schema does not know is refused (with the nearest known key), never
 * ignored. Errors name the key, where its value came from, the value and what was expected.
 */
export function loadConfig<T extends TSchema>(
  schema: T,
  options: LoadConfigOptions = {},
): Static<T> {
  const from = new Map<string, string>(); // dotted key -> where its value came from
  const raw: Record<string, unknown> = options.file ? readYaml(options.file) : {};
  if (options.file) {
    const unknown = unknownKeys(schema, raw);
    if (unknown.length > 0) throw new ConfigError(unknownKeysMessage(unknown, options.file));
    for (const key of objectKeys(raw)) from.set(key, `config file ${options.file}`);
  }
  for (const [name, key] of Object.entries(options.envKeys ?? {})) {
    const found = fromEnv(name, options.env ?? {});
    if (found === undefined) continue;
    const list = schemaAt(schema, key)?.[Kind] === 'Array';
    setPath(raw, key, list ? found.value.split(',').map((s) => s.trim()) : found.value);
    from.set(key, found.where);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, key, value);
    from.set(key, 'a command-line option');
  }
  const withDefaults = Value.Default(schema, Value.Clone(raw));
  const converted = Value.Convert(schema, withDefaults);
  const errors = [...Value.Errors(schema, converted)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => {
      const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
      const secret = schemaAt(schema, key)?.secret === true;
      const got = secret ? 'a secret, not shown' : `got ${JSON.stringify(e.value)}`;
      return `  ${key}: ${e.message} (${got}; from ${sourceOf(from, key)})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(converted as Static<T>);
}

function unknownKeysMessage(unknown: readonly UnknownKey[], file: string): string {
  const lines = unknown.slice(0, 10).map(({ key, suggestion }) => {
    const hint = suggestion === undefined ? '' : `: did you mean \`${suggestion}\`?`;
    return `  \`${key}\`${hint}`;
  });
  const more = unknown.length > 10 ? `\n  ... and ${unknown.length - 10} more` : '';
  return `unknown configuration key${unknown.length > 1 ? 's' : ''} in ${file} (a misspelt key would be ignored, so it is refused):\n${lines.join('\n')}${more}`;
}

/** The value of NAME, or of the file NAME_FILE names; both set is an error. */
function fromEnv(
  name: string,
  env: Record<string, string | undefined>,
): { value: string; where: string } | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  const hasDirect = direct !== undefined && direct !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasDirect && hasFile)
    throw new ConfigError(`${name} and ${name}_FILE are both set: set one of them`);
  if (hasDirect) return { value: direct, where: `environment variable ${name}` };
  if (!hasFile) return undefined;
  try {
    return {
      value: readFileSync(file, 'utf8').replace(/\r?\n$/, ''),
      where: `environment variable ${name}_FILE (${file})`,
    };
  } catch (cause) {
    throw new ConfigError(`${name}_FILE: cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Where the value of a key (or of the object or list holding it) came from. */
function sourceOf(from: ReadonlyMap<string, string>, key: string): string {
  const parts = key.split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const found = from.get(parts.slice(0, n).join('.'));
    if (found) return found;
  }
  for (const [k, where] of from) if (k.startsWith(`${key}.`)) return where;
  return 'the defaults';
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
