import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Rule } from '../../detect/rules.ts';
import type { HubQueries } from '../../ports.ts';
import { errorResponses, QUERY_ERRORS } from './http-errors.ts';
import { isoOrNull, Nullable, rangeParams, IsoTime as Time, timeRange } from './time.ts';

const DAY = 24 * 3_600_000;
const AnomaliesQuery = Type.Object(
  {
    ...rangeParams('24 h'),
    device: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
    severity: Type.Optional(
      Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
  },
  { additionalProperties: false },
);
const AnomaliesAnswer = Type.Object({
  from: Time,
  to: Time,
  count: Type.Integer(),
  nextOffset: Nullable(Type.Integer()),
  anomalies: Type.Array(
    Type.Object({
      id: Type.String(),
      deviceId: Type.String(),
      metric: Type.String(),
      rule: Type.String(),
      detector: Type.String(),
      severity: Type.String(),
      start: Time,
      end: Nullable(Time),
      state: Type.String(),
      peakScore: Type.Number(),
      peakTime: Nullable(Time),
      peakValue: Nullable(Type.Number()),
      title: Type.String(),
      text: Type.String(),
    }),
  ),
});
const GatewaysAnswer = Type.Object({
  gateways: Type.Array(
    Type.Object({
      gatewayId: Type.String(),
      time: Time,
      ageMs: Type.Integer({ description: 'how long before the answer the status was taken' }),
      version: Nullable(Type.String()),
      kafkaConnected: Nullable(Type.Boolean()),
      backlogRows: Nullable(Type.Integer()),
      oldestReceivedAt: Nullable(Type.Integer({ description: 'epoch ms' })),
      forwarded: Nullable(Type.Integer()),
    }),
  ),
});
/** The answers of GET /api/anomalies and GET /api/gateways (the dashboard reads both). */
export type AnomaliesAnswer = Static<typeof AnomaliesAnswer>;
export type GatewaysAnswer = Static<typeof GatewaysAnswer>;
const RulesAnswer = Type.Object({
  rules: Type.Array(
    Type.Object(
      { id: Type.String(), metric: Type.Array(Type.String()), detector: Type.String() },
      { additionalProperties: true },
    ),
  ),
});

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
        response: {
          200: AnomaliesAnswer,
          ...errorResponses(...QUERY_ERRORS, 'TIME_INVALID', 'RANGE_INVALID', 'RANGE_TOO_LONG'),
        },
      },
    },
    async (req, reply) => {
      const range = timeRange(req.query, deps.now(), reply, DAY);
      if (!range) return reply;
      const { limit = 100, offset = 0 } = req.query;
      const rows = await deps.queries.anomalies({
        ...range,
        deviceId: req.query.device,
        severity: req.query.severity,
        limit,
        offset,
      });
      return {
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        count: rows.length,
        nextOffset: rows.length === limit ? offset + limit : null,
        anomalies: rows.flatMap((a) => {
          // A time read back from the store that no Date can hold never fails the answer.
          const start = isoOrNull(a.start);
          if (start === null) return [];
          return [{ ...a, start, end: isoOrNull(a.end), peakTime: isoOrNull(a.peakTime) }];
        }),
      };
    },
  );

  app.get(
    '/api/gateways',
    {
      schema: {
        summary: 'Gateways that sent a status record in the last 24 h, newest status',
        response: { 200: GatewaysAnswer, ...errorResponses(...QUERY_ERRORS) },
      },
    },
    async () => {
      const now = deps.now();
      const gateways = await deps.queries.gateways(now - DAY);
      return {
        gateways: gateways.flatMap((g) => {
          const time = isoOrNull(g.time);
          return time === null ? [] : [{ ...g, time, ageMs: now - g.time }];
        }),
      };
    },
  );

  app.get(
    '/api/rules',
    {
      schema: {
        summary: 'The detection rules in force',
        response: { 200: RulesAnswer, ...errorResponses(...QUERY_ERRORS) },
      },
    },
    async () => ({ rules: deps.rules }),
  );
}
