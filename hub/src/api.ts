import { type Static, Type } from '@sinclair/typebox';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ReadingStore } from './ports.ts';

export interface ApiOptions {
  store: ReadingStore;
  health: () => Promise<Record<string, unknown>>;
  log: Logger;
  now?: () => number;
}

const DeviceParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });
const ReadingsQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; default: to - 1 h' })),
  to: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; default: now' })),
  limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
});

const HOUR = 3_600_000;
const MAX_RANGE = 366 * 24 * HOUR;

/** Parses ISO-8601 or epoch milliseconds; undefined when it is neither. */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Builds the hub's REST API (no listening here: see main.ts). */
export function buildApi(options: ApiOptions) {
  const now = options.now ?? Date.now;
  const app = Fastify({
    loggerInstance: options.log.child({ module: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });

  app.get('/api/health', async () => options.health());

  app.get<{ Params: Static<typeof DeviceParams>; Querystring: Static<typeof ReadingsQuery> }>(
    '/api/devices/:id/readings',
    { schema: { params: DeviceParams, querystring: ReadingsQuery } },
    async (req, reply) => {
      const to = req.query.to === undefined ? now() : parseTime(req.query.to);
      if (to === undefined) return badRequest(reply, 'to', req.query.to);
      const from = req.query.from === undefined ? to - HOUR : parseTime(req.query.from);
      if (from === undefined) return badRequest(reply, 'from', req.query.from);
      if (from > to) return reply.code(400).send(error('RANGE_INVALID', '`from` is after `to`'));
      if (to - from > MAX_RANGE)
        return reply.code(400).send(error('RANGE_TOO_LONG', 'the range may span at most 366 days'));
      const { limit } = req.query;
      const readings = await options.store.readings({ deviceId: req.params.id, from, to, limit });
      return {
        deviceId: req.params.id,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        count: readings.length,
        truncated: readings.length === limit,
        readings: readings.map((r) => ({ ...r, time: new Date(r.time).toISOString() })),
      };
    },
  );

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return reply.code(400).send(error('BAD_REQUEST', err.message));
    options.log.error({ err }, 'request failed');
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 503;
    return reply
      .code(status)
      .send(error('QUERY_FAILED', `the request could not be answered: ${err.message}`));
  });
  return app;
}

function error(code: string, message: string) {
  return { error: { code, message } };
}

function badRequest(
  reply: { code(n: number): { send(b: unknown): unknown } },
  key: string,
  value: unknown,
) {
  return reply
    .code(400)
    .send(
      error(
        'TIME_INVALID',
        `\`${key}\` must be ISO-8601 or epoch milliseconds, got ${JSON.stringify(value)}`,
      ),
    );
}
