import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Rule } from '../detect/rules.ts';
import type { HubQueries } from '../ports.ts';
import { timeRange } from './time.ts';

const DAY = 24 * 3_600_000;
const AnomaliesQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; default: to - 24 h' })),
    to: Type.Optional(Type.String({ description: 'ISO-8601 or epoch ms; default: now' })),
    device: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
    severity: Type.Optional(
      Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
  },
  { additionalProperties: false },
);

export interface MiscRouteDeps {
  queries: HubQueries;
  rules: readonly Rule[];
  now: () => number;
}

/** Anomaly episodes (newest first), gateways (from their status records) and the rules. */
export async function miscRoutes(app: FastifyInstance, deps: MiscRouteDeps) {
  app.get<{ Querystring: Static<typeof AnomaliesQuery> }>(
    '/api/anomalies',
    {
      schema: {
        summary: 'Anomaly episodes that started in the range, newest first',
        querystring: AnomaliesQuery,
      },
    },
    async (req, reply) => {
      const range = timeRange(req.query, deps.now(), reply, DAY);
      if (!range) return reply;
      const { limit, offset } = req.query;
      const rows = await deps.queries.anomalies({
        ...range,
        deviceId: req.query.device,
        severity: req.query.severity,
        limit,
        offset,
      });
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      return {
        from: iso(range.from),
        to: iso(range.to),
        count: rows.length,
        nextOffset: rows.length === limit ? offset + limit : null,
        anomalies: rows.map((a) => ({
          ...a,
          start: iso(a.start),
          end: iso(a.end),
          peakTime: iso(a.peakTime),
        })),
      };
    },
  );

  app.get(
    '/api/gateways',
    { schema: { summary: 'Gateways that sent a status record in the last 24 h, newest status' } },
    async () => {
      const now = deps.now();
      const gateways = await deps.queries.gateways(now - DAY);
      return {
        gateways: gateways.map((g) => ({
          ...g,
          time: new Date(g.time).toISOString(),
          ageMs: now - g.time,
        })),
      };
    },
  );

  app.get('/api/rules', { schema: { summary: 'The detection rules in force' } }, async () => ({
    rules: deps.rules,
  }));
}
