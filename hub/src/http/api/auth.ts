import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { error } from './http-errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * An onRequest hook requiring `Authorization: Bearer <token>`; compared in constant time.
 * 401 `UNAUTHORISED` without a token or with a wrong one. With `queryParam`, the token may
 * also come as `?<queryParam>=` (the dashboard's event stream: EventSource sends no headers).
 */
export function bearerAuth(token: string, options: { queryParam?: string } = {}) {
  const expected = digest(token);
  const { queryParam } = options;
  const hint = queryParam
    ? `send \`Authorization: Bearer <token>\` or \`?${queryParam}=<token>\``
    : 'send `Authorization: Bearer <token>` (http.token)';
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const query = queryParam
      ? (req.query as Record<string, unknown> | undefined)?.[queryParam]
      : undefined;
    const given = header ?? (typeof query === 'string' ? query : undefined);
    if (given && timingSafeEqual(digest(given), expected)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply.code(401).send(error('UNAUTHORISED', hint));
  };
}
