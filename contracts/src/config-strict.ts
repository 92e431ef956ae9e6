import type { TSchema } from '@sinclair/typebox';
import { childSchemas, schemaKeys } from './config-keys.ts';

/** A key in a configuration file that the schema does not know, with the nearest known key. */
export interface UnknownKey {
  /** Dotted path as written, with list positions: `serial.ports.0.baud`. */
  key: string;
  /** The known key it most likely means (dotted, full path), if any is near. */
  suggestion?: string;
}

/**
 * Every key of `value` (a parsed YAML document) that `schema` does not define, at any depth:
 * object keys, the objects inside lists, and the values of maps. A misspelt key would otherwise
 * be ignored and its setting silently left at the default (`http.tokn` serving an open API).
 */
export function unknownKeys(schema: TSchema, value: unknown, path: string[] = []): UnknownKey[] {
  if (typeof value !== 'object' || value === null) return [];
  const { properties, items, values } = childSchemas(schema);
  if (items !== undefined && Array.isArray(value))
    return value.flatMap((v, i) => unknownKeys(items, v, [...path, String(i)]));
  if (Array.isArray(value)) return [];
  if (values !== undefined)
    return Object.entries(value).flatMap(([k, v]) => unknownKeys(values, v, [...path, k]));
  if (properties === undefined) return [];
  const out: UnknownKey[] = [];
  for (const [k, v] of Object.entries(value)) {
    const child = properties[k];
    if (child !== undefined) {
      out.push(...unknownKeys(child, v, [...path, k]));
      continue;
    }
    const key = [...path, k].join('.');
    const suggestion = nearestKey(k, path, properties, schema);
    out.push(suggestion === undefined ? { key } : { key, suggestion });
  }
  return out;
}

/**
 * A sibling within a small edit distance (`tokn` -> `token`, `mqt` -> `mqtt`), else a key of the
 * same name elsewhere below this object (`token` at the top level -> `http.token`).
 */
function nearestKey(
  key: string,
  path: string[],
  siblings: Record<string, TSchema>,
  parent: TSchema,
): string | undefined {
  const join = (k: string) => [...path, k].join('.');
  let best: { name: string; d: number } | undefined;
  const k = key.toLowerCase();
  for (const name of Object.keys(siblings)) {
    const n = name.toLowerCase();
    // A misspelt start of a longer key counts as near: baud, pasword -> baudRate, passwordHash
    const prefix =
      k.length >= 3 &&
      n.length > k.length &&
      Math.min(editDistance(k, n.slice(0, k.length)), editDistance(k, n.slice(0, k.length + 1))) <=
        (k.length >= 5 ? 1 : 0);
    const d = prefix ? 1 : editDistance(k, n);
    if (d <= Math.max(1, Math.floor(n.length / 3)) && (best === undefined || d < best.d))
      best = { name, d };
  }
  if (best) return join(best.name);
  const deeper = schemaKeys(parent).find((k) => k.split('.').at(-1) === key && k.includes('.'));
  return deeper === undefined ? undefined : join(deeper);
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `kafak` is one edit
 * from `kafka`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}
