import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiErrorCode, error, isApiErrorCode, statusOf } from './http-errors.ts';

/** fastify's own client errors, each with the API's code for it. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BODY_LENGTH_MISMATCH',
  FST_ERR_BAD_URL: 'URL_INVALID',
};

type RequestError = FastifyError & { validation?: unknown; error?: { message?: unknown } };

/** Request ids the hub logs errors under and answers with: unique across restarts. */
export const genReqId = () => randomUUID();

/**
 * The one place errors become answers, each with a code from the catalog (http-errors.ts):
 * - a client error (bad parameter, body that is not JSON, empty or too large, rate limit) gets
 *   its status and its own code, and is logged at info: it says nothing about the hub;
 * - anything else is a 503 `QUERY_FAILED` with a generic message and the request id, and the
 *   error itself (which may hold internal details: SQL, file paths, stack) is logged at error
 *   level under that id, never sent to the client.
 */
export function sendError(
  err: RequestError,
  req: FastifyRequest,
  reply: FastifyReply,
  notFound?: (req: FastifyRequest, reply: FastifyReply) => unknown,
) {
  // No route serves the request, and its body failed before the not-found handler ran (a
  // QUERY without a content-type): the answer is still 404 / 405.
  if (req.is404 && notFound) return notFound(req, reply);
  const code = clientCode(err);
  if (code !== undefined) {
    const status = code === 'BAD_REQUEST' ? clientStatus(err) : statusOf(code);
    const message =
      code === 'RATE_LIMITED' && typeof err.error?.message === 'string'
        ? err.error.message
        : err.message;
    req.log.info({ code, status, reason: message }, 'request refused');
    return reply.code(status).send(error(code, message, req.id));
  }
  req.log.error({ err, url: req.url, method: req.method }, 'request failed');
  return reply
    .code(503)
    .send(
      error(
        'QUERY_FAILED',
        `the hub could not answer this request; retry later, or look up request ${req.id} in the hub log`,
        req.id,
      ),
    );
}

function clientCode(err: RequestError): ApiErrorCode | undefined {
  if (err.validation) return 'BAD_REQUEST';
  if (isApiErrorCode(err.code)) return err.code; // thrown with the API's code (validation.ts)
  const known = FASTIFY_CODES[err.code];
  if (known) return known;
  if (err.statusCode === 429) return 'RATE_LIMITED';
  const status = clientStatus(err);
  return status >= 400 && status < 500 ? 'BAD_REQUEST' : undefined;
}

function clientStatus(err: RequestError): number {
  return typeof err.statusCode === 'number' ? err.statusCode : 500;
}

/**
 * Collects the routes (`onRoute`) for `notFound`: 404 `NOT_FOUND` for a path no route serves; 405 `METHOD_NOT_ALLOWED` with an Allow header
 * for a path that a route serves with other methods (fastify answers 404 for both).
 */
export function routeTable() {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  const onRoute = (route: { url: string; method: string | string[] }) => {
    const source = route.url
      .split('/')
      .map((part) =>
        part.startsWith(':')
          ? '[^/]+'
          : part === '*'
            ? '.*'
            : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    const pattern = new RegExp(`^${source.replace(/\/\.\*$/, '(/.*)?')}$`);
    const methods = [route.method].flat().map(String);
    const entry = routes.find((r) => r.pattern.source === pattern.source);
    if (entry) for (const m of methods) entry.methods.add(m);
    else routes.push({ pattern, methods: new Set(methods) });
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    if (allowed.size > 0 && !allowed.has(req.method)) {
      reply.header('allow', [...allowed].sort().join(', '));
      return reply
        .code(405)
        .send(error('METHOD_NOT_ALLOWED', `${req.method} is not served here`, req.id));
    }
    return reply.code(404).send(error('NOT_FOUND', `no route ${req.method} ${path}`, req.id));
  };
  return { onRoute, notFound };
}
