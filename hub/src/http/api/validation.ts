import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchema } from 'fastify';
import type { ApiErrorCode } from './http-errors.ts';

/**
 * How deep a request body may nest. A batch of readings is 5 deep
 * (`{records: [{metrics: {name: {value}}}]}`), a gateway status 3.
 */
export const MAX_BODY_DEPTH = 32;

type HttpPart = 'body' | 'querystring' | 'params' | 'headers';
type Validator = ((data: unknown, ctx?: Parameters<ValidateFunction>[1]) => boolean) & {
  errors?: ErrorObject[] | null;
  schemaEnv?: unknown;
};

/**
 * Ajv as fastify sets it up (defaults filled, never more than the first error: `allErrors`
 * is a denial-of-service lever), except that no unknown property is silently removed.
 */
const ajvOptions = { useDefaults: true, removeAdditional: false, allErrors: false } as const;

/**
 * The REST API's request validation: two Ajv instances instead of fastify's one.
 *
 * - Query strings, path parameters and headers arrive as text, so they are coerced to the
 *   schema's types (`limit=10` is the integer 10), and then every number must be finite: Ajv
 *   coerces `Infinity` and `-Infinity` to numbers and then skips its `minimum` / `maximum`
 *   checks for them, so `limit=Infinity` would pass a `maximum: 1000` and reach SQL.
 * - Bodies are JSON and already typed: never coerced (`{"time": null}` must be refused, not
 *   stored as 0).
 */
export function validatorCompiler() {
  const coercing = new Ajv({ ...ajvOptions, coerceTypes: true });
  const strict = new Ajv({ ...ajvOptions, coerceTypes: false });
  return ({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }): Validator => {
    if ((httpPart as HttpPart | undefined) === 'body') return strict.compile(schema);
    return finiteNumbers(coercing.compile(schema));
  };
}

/** Wraps a coercing validator: a non-finite number anywhere in the (flat) data is refused. */
function finiteNumbers(validate: ValidateFunction): Validator {
  const wrapped: Validator = (data, ctx) => {
    if (!validate(data, ctx)) {
      wrapped.errors = validate.errors ?? null;
      return false;
    }
    const bad = nonFinite(data);
    if (bad === undefined) {
      wrapped.errors = null;
      return true;
    }
    wrapped.errors = [
      {
        instancePath: `/${bad}`,
        schemaPath: '#/type',
        keyword: 'type',
        params: { type: 'finite number' },
        message: 'must be a finite number',
      },
    ];
    return false;
  };
  // fastify hands Ajv validators the parent object so defaults and coercion can reach the root.
  wrapped.schemaEnv = validate.schemaEnv;
  return wrapped;
}

function nonFinite(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number' && !Number.isFinite(value)) return key;
    if (Array.isArray(value) && value.some((v) => typeof v === 'number' && !Number.isFinite(v)))
      return key;
  }
  return undefined;
}

/** Why a parsed body is refused, or undefined: too deep, or a prototype-poisoning key. */
export function bodyProblem(value: unknown, maxDepth = MAX_BODY_DEPTH): ApiErrorCode | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return 'BODY_TOO_DEEP';
    if (!Array.isArray(v) && isPoisoned(v as Record<string, unknown>)) return 'BODY_FORBIDDEN_KEY';
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return undefined;
}

/** `__proto__`, or `constructor.prototype`: what fastify's own JSON parser also refuses. */
function isPoisoned(o: Record<string, unknown>): boolean {
  if (Object.hasOwn(o, '__proto__')) return true;
  const c = Object.hasOwn(o, 'constructor') ? o.constructor : undefined;
  return c !== null && typeof c === 'object' && Object.hasOwn(c, 'prototype');
}

class BodyError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The only body parser: JSON (anything else is 415 `MEDIA_TYPE_UNSUPPORTED`). An empty body is
 * `BODY_EMPTY`, text that is not JSON `BODY_NOT_JSON`, a body nested deeper than
 * MAX_BODY_DEPTH `BODY_TOO_DEEP` (a 100,000-deep one would overflow the stack of whatever walks
 * it next, JSON.stringify of a dead letter), and a `__proto__` or `constructor.prototype` key
 * `BODY_FORBIDDEN_KEY` (prototype poisoning), each a 400 before any route sees the body.
 */
export function jsonBodyParser(
  _req: unknown,
  body: string,
  done: (err: Error | null, value?: unknown) => void,
) {
  if (body.length === 0)
    return done(new BodyError('BODY_EMPTY', 'the body is empty; send a JSON document'));
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return done(new BodyError('BODY_NOT_JSON', `the body is not JSON: ${(err as Error).message}`));
  }
  const problem = bodyProblem(value);
  if (problem === 'BODY_TOO_DEEP')
    return done(new BodyError(problem, `the body may nest at most ${MAX_BODY_DEPTH} levels deep`));
  if (problem === 'BODY_FORBIDDEN_KEY')
    return done(
      new BodyError(problem, 'the body may not have a `__proto__` or `constructor.prototype` key'),
    );
  done(null, value);
}
