import { Kind, type TSchema } from '@sinclair/typebox';

/** Every leaf key of an object schema, dotted (`kafka.brokers`): for docs-completeness tests. */
export function schemaKeys(schema: TSchema, prefix = ''): string[] {
  if (schema[Kind] !== 'Object') return [prefix];
  return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([key, child]) =>
    schemaKeys(child, prefix ? `${prefix}.${key}` : key),
  );
}

/** Every leaf key of a plain object, dotted. */
export function objectKeys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, child]) =>
    objectKeys(child, prefix ? `${prefix}.${key}` : key),
  );
}
