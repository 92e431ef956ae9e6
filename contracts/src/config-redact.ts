import type { TSchema } from '@sinclair/typebox';
import { childSchemas } from './config-keys.ts';

/**
 * Marks a schema key as a secret (`Type.String({ ...SECRET })`): printed configurations and
 * logs show `[redacted]` instead of its value (an http(s) URL keeps its origin).
 */
export const SECRET = { secret: true } as const;

export const REDACTED = '[redacted]';

/**
 * A copy of a loaded configuration fit to print (`--print-config`): every key the schema marks
 * as a secret is redacted, and so is the password of any URL (`http://user:pw@host`).
 */
export function redactConfig(schema: TSchema, value: unknown): unknown {
  if (typeof value === 'string') return schema.secret ? redactSecret(value) : redactUrl(value);
  if (typeof value !== 'object' || value === null) return value;
  const { properties, items, values } = childSchemas(schema);
  if (Array.isArray(value)) return value.map((v) => (items ? redactConfig(items, v) : v));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const child = properties?.[k] ?? values;
    out[k] = child ? redactConfig(child, v) : v;
  }
  return out;
}

function redactSecret(value: string): string {
  if (value === '') return value;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return `${url.origin}/${REDACTED}`;
  } catch {
    // not a URL: redacted whole
  }
  return REDACTED;
}

function redactUrl(value: string): string {
  // scheme://user:password@host...: only the password goes
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]+@/i, `$1${REDACTED}@`);
}

/** The effective configuration as `--print-config` shows it: secrets redacted. */
export function printableConfig(schema: TSchema, config: unknown): string {
  return `${JSON.stringify(redactConfig(schema, config), null, 2)}\n`;
}
