import type { FastifyDynamicSwaggerOptions, SwaggerTransformObject } from '@fastify/swagger';

/**
 * @fastify/swagger rewrites `patternProperties: {P: S}` to `additionalProperties: S`, which
 * changes its meaning: the request schema `quarantinedByCode` (keys `^[A-Z0-9_]{1,64}$` map to
 * counts, other keys are let through) would be documented as "every value a count". OpenAPI
 * 3.1 schemas are JSON Schema 2020-12, where `patternProperties` is valid, so it is hidden from
 * that rewrite under this name and restored in the finished document.
 */
const HIDDEN = 'x-iot-pattern-properties';

/** A copy of `value` with every object key `from` renamed `to` (string keys only). */
function renameKey(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKey(v, from, to));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k === from ? to : k] = renameKey(v, from, to);
  return out;
}

/**
 * The OpenAPI document at /docs/json: 3.1 (the route schemas are JSON Schema 2020-12; a numeric
 * `exclusiveMaximum` is not valid 3.0), a bearer token for everything that does not say
 * `security: []`, and every route schema as the server validates it.
 */
export const openapiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'iot-hub REST API', version: '0.1.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  },
  transform: ({ schema, url }) => ({
    schema: renameKey(schema, 'patternProperties', HIDDEN) as typeof schema,
    url,
  }),
  transformObject: (documents) =>
    renameKey(
      'openapiObject' in documents ? documents.openapiObject : documents.swaggerObject,
      HIDDEN,
      'patternProperties',
    ) as ReturnType<SwaggerTransformObject>,
};
