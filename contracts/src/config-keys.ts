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

/** The schema of a dotted key of an object schema (`kafka.brokers`), or undefined. */
export function schemaAt(schema: TSchema, dotted: string): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const key of dotted.split('.')) {
    if (node?.[Kind] !== 'Object') return undefined;
    node = (node.properties as Record<string, TSchema>)[key];
  }
  return node;
}

/** The properties of an object schema, the item schema of an array, the value of a record. */
export function childSchemas(schema: TSchema): {
  properties?: Record<string, TSchema>;
  items?: TSchema;
  values?: TSchema;
} {
  switch (schema[Kind]) {
    case 'Object':
      return { properties: schema.properties as Record<string, TSchema> };
    case 'Array':
      return { items: schema.items as TSchema };
    case 'Record':
      return { values: Object.values(schema.patternProperties as Record<string, TSchema>)[0] };
    default:
      return {};
  }
}
