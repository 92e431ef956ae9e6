import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { error } from './http-errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * An onRequest hook requiring `Authorization: Bearer <token>`; compared in constant time.
 * 401 `UNAUTHORISED` without a token or with a wrong one.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (m?.[1] && timingSafeEqual(digest(m[1]), expected)) return;
    reply.header('www-authenticate', 'Bearer');
    return reply
      .code(401)
      .send(error('UNAUTHORISED', 'send `Authorization: Bearer <token>` (http.token)'));
  };
}
