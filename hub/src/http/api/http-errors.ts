import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Every error code the REST API answers with: its HTTP status and what it means. Codes are
 * stable and never reused; README.md ("REST API") lists them (a unit test keeps the two in
 * step), and each route's OpenAPI responses name the codes of each status (`errorResponses`).
 */
export const API_ERRORS = {
  BAD_REQUEST: [400, 'a parameter or the body does not match the schema (unknown ones included)'],
  TIME_INVALID: [400, '`from` / `to` is not ISO-8601 or epoch ms between 0000 and 9999'],
  RANGE_INVALID: [400, '`from` is after `to`'],
  RANGE_TOO_LONG: [400, 'the range spans more than 366 days'],
  EVERY_INVALID: [400, '`every` is not like 30s, 5m, 1h or 1d'],
  TOO_MANY_BUCKETS: [400, 'more than 100,000 buckets'],
  URL_INVALID: [400, 'the URL does not decode'],
  BODY_NOT_JSON: [400, 'the body is not valid JSON'],
  BODY_EMPTY: [400, 'an empty body with content-type application/json'],
  BODY_TOO_DEEP: [400, 'the body nests more than 32 levels deep'],
  BODY_FORBIDDEN_KEY: [400, 'the body has a `__proto__` or `constructor.prototype` key'],
  BODY_LENGTH_MISMATCH: [400, 'the body is shorter or longer than its content-length'],
  UNAUTHORISED: [401, 'no or a wrong bearer token'],
  NOT_FOUND: [404, 'no such route'],
  DEVICE_NOT_FOUND: [404, 'no readings of that device in the last 30 days'],
  METHOD_NOT_ALLOWED: [405, 'the route exists, not with this method (see the Allow header)'],
  BODY_TOO_LARGE: [413, 'the body is larger than the route accepts'],
  MEDIA_TYPE_UNSUPPORTED: [415, 'a body that is not application/json'],
  RATE_LIMITED: [429, 'more than http.rateLimitPerMinute requests in a minute'],
  QUERY_FAILED: [
    503,
    'the hub could not answer (its store failed or a bug): retry; the hub log has the cause under the requestId',
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code);
}

export function statusOf(code: ApiErrorCode): number {
  return API_ERRORS[code][0];
}

/** Every error body: a stable code, a message saying what to do, and the request's id. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable; see the API error catalog' }),
    message: Type.String(),
    requestId: Type.Optional(Type.String({ description: 'the id the hub logged it under' })),
  }),
});

export function error(code: ApiErrorCode, message: string, requestId?: string) {
  return { error: requestId === undefined ? { code, message } : { code, message, requestId } };
}

/**
 * OpenAPI responses for the error codes a route answers with, grouped by status: each an
 * ErrorBody whose description names its codes. `{ 200: ..., ...errorResponses('UNAUTHORISED') }`.
 */
export function errorResponses(...codes: ApiErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set(codes)) {
    const [status, meaning] = API_ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `\`${code}\`: ${meaning}`]);
  }
  const out: Record<number, TSchema> = {};
  for (const [status, lines] of byStatus)
    out[status] = Type.Object(ErrorBody.properties, { description: lines.join('; ') });
  return out;
}

/** What every route behind the token may answer: bad parameters, no token, too many, failed. */
export const QUERY_ERRORS: readonly ApiErrorCode[] = [
  'BAD_REQUEST',
  'UNAUTHORISED',
  'RATE_LIMITED',
  'QUERY_FAILED',
];

export interface Reply {
  code(n: number): { send(b: unknown): unknown };
}

/** A 400 with a stable code. */
export function badRequest(reply: Reply, code: ApiErrorCode, message: string) {
  return reply.code(400).send(error(code, message));
}
