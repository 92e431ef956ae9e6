import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AggregateFn, HubQueries, ReadingStore } from '../../ports.ts';
import { badRequest, error, errorResponses, QUERY_ERRORS } from './http-errors.ts';
import {
  isoOrNull,
  Nullable,
  parseEvery,
  rangeParams,
  IsoTime as Time,
  timeRange,
} from './time.ts';

const DeviceId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });
const DeviceParams = Type.Object({ id: DeviceId });
const FNS = ['mean', 'min', 'max', 'sum', 'count', 'first', 'last', 'median', 'stddev'] as const;
const ReadingsQuery = Type.Object(
  {
    ...rangeParams('1 h'),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
    metrics: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]{1,64}(,[A-Za-z0-9._-]{1,64}){0,31}$',
        description: 'comma-separated metric names; default all',
      }),
    ),
    every: Type.Optional(
      Type.String({
        description: 'aggregate into buckets of this size: 30s, 5m, 1h, 1d',
        examples: ['5m'],
      }),
    ),
    fn: Type.Optional(
      Type.Union(
        FNS.map((f) => Type.Literal(f)),
        { description: 'aggregate function (with `every`; default mean)' },
      ),
    ),
  },
  { additionalProperties: false },
);
const MAX_BUCKETS = 100_000;
const DEVICE_WINDOW = 30 * 24 * 3_600_000;
/** A device is offline when not seen for this long. */
export const OFFLINE_AFTER_MS = 10 * 60_000;

const Device = Type.Object({
  deviceId: Type.String(),
  lastSeen: Time,
  gateway: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('offline'), Type.Literal('anomalous')]),
  openAnomalies: Type.Integer(),
});
const DevicesAnswer = Type.Object({
  total: Type.Integer(),
  nextOffset: Nullable(Type.Integer()),
  devices: Type.Array(Device),
});
/** The answer of GET /api/devices (the dashboard's fleet reads it). */
export type DevicesAnswer = Static<typeof DevicesAnswer>;
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);
/** Raw readings (`readings`) or, with `every` / `fn`, one point per bucket and metric (`points`). */
const ReadingsAnswer = Type.Object({
  deviceId: Type.String(),
  from: Time,
  to: Time,
  every: Type.Optional(Type.String()),
  fn: Type.Optional(Type.String()),
  count: Type.Integer(),
  truncated: Type.Boolean({ description: 'more exist: page on with from = the last time + 1 ms' }),
  readings: Type.Optional(
    Type.Array(
      Type.Object({
        time: Time,
        gatewayId: Type.String(),
        gatewaySeq: Nullable(Type.Integer()),
        seq: Nullable(Type.Integer()),
        metrics: Type.Record(
          Type.String(),
          Type.Object({ value: Type.Number(), unit: Type.Optional(Type.String()) }),
        ),
      }),
    ),
  ),
  points: Type.Optional(
    Type.Array(Type.Object({ time: Time, metric: Type.String(), value: Type.Number() })),
  ),
});

/** The answer of GET /api/devices/{id}/readings (the dashboard's charts read it). */
export type ReadingsAnswer = Static<typeof ReadingsAnswer>;

export interface DeviceRouteDeps {
  store: ReadingStore;
  queries: HubQueries;
  now: () => number;
}

function status(lastSeen: number, open: number, now: number) {
  if (open > 0) return 'anomalous';
  return now - lastSeen > OFFLINE_AFTER_MS ? 'offline' : 'ok';
}

export async function deviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps) {
  const list = async () => {
    const now = deps.now();
    return (await deps.queries.devices(now - DEVICE_WINDOW)).flatMap((d) => {
      // The stores skip times outside the record range; a time no Date can hold still never
      // fails the whole list (it would make every device unqueryable).
      const lastSeen = isoOrNull(d.lastSeen);
      if (lastSeen === null) return [];
      return [
        {
          deviceId: d.deviceId,
          lastSeen,
          gateway: d.gateway,
          status: status(d.lastSeen, d.openAnomalies, now),
          openAnomalies: d.openAnomalies,
        },
      ];
    });
  };

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/api/devices',
    {
      schema: {
        summary: 'Devices seen in the last 30 days: last seen, status, open anomalies',
        querystring: ListQuery,
        response: {
          200: DevicesAnswer,
          ...errorResponses(...QUERY_ERRORS),
        },
      },
    },
    async (req) => {
      const all = await list();
      const { limit = 100, offset = 0 } = req.query;
      const page = all.slice(offset, offset + limit);
      const next = offset + page.length < all.length ? offset + page.length : null;
      return { total: all.length, nextOffset: next, devices: page };
    },
  );

  app.get<{ Params: Static<typeof DeviceParams> }>(
    '/api/devices/:id',
    {
      schema: {
        summary: 'One device',
        params: DeviceParams,
        response: { 200: Device, ...errorResponses(...QUERY_ERRORS, 'DEVICE_NOT_FOUND') },
      },
    },
    async (req, reply) => {
      const d = (await list()).find((x) => x.deviceId === req.params.id);
      if (!d)
        return reply
          .code(404)
          .send(error('DEVICE_NOT_FOUND', `no readings of ${req.params.id} in the last 30 days`));
      return d;
    },
  );

  app.get<{ Params: Static<typeof DeviceParams>; Querystring: Static<typeof ReadingsQuery> }>(
    '/api/devices/:id/readings',
    {
      schema: {
        summary: 'Readings of one device, oldest first; aggregated with `every` and `fn`',
        params: DeviceParams,
        querystring: ReadingsQuery,
        response: {
          200: ReadingsAnswer,
          ...errorResponses(
            ...QUERY_ERRORS,
            'TIME_INVALID',
            'RANGE_INVALID',
            'RANGE_TOO_LONG',
            'EVERY_INVALID',
            'TOO_MANY_BUCKETS',
          ),
        },
      },
    },
    async (req, reply) => {
      const range = timeRange(req.query, deps.now(), reply);
      if (!range) return reply;
      const { limit = 1000 } = req.query;
      const metrics = req.query.metrics?.split(',');
      const base = {
        deviceId: req.params.id,
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
      };
      if (req.query.every !== undefined || req.query.fn !== undefined) {
        const everyMs = parseEvery(req.query.every ?? '');
        if (everyMs === undefined)
          return badRequest(reply, 'EVERY_INVALID', '`every` must be like 30s, 5m, 1h or 1d');
        if ((range.to - range.from) / everyMs > MAX_BUCKETS)
          return badRequest(reply, 'TOO_MANY_BUCKETS', `at most ${MAX_BUCKETS} buckets per query`);
        const fn: AggregateFn = req.query.fn ?? 'mean';
        const points = await deps.queries.series({
          ...range,
          deviceId: req.params.id,
          metrics,
          everyMs,
          fn,
          limit,
        });
        return {
          ...base,
          every: req.query.every,
          fn,
          count: points.length,
          truncated: points.length === limit,
          points: points.flatMap((p) => {
            const time = isoOrNull(p.time);
            return time === null ? [] : [{ ...p, time }];
          }),
        };
      }
      const found = await deps.store.readings({ deviceId: req.params.id, ...range, limit });
      const readings = metrics
        ? found
            .map((r) => ({
              ...r,
              metrics: Object.fromEntries(
                Object.entries(r.metrics).filter(([m]) => metrics.includes(m)),
              ),
            }))
            .filter((r) => Object.keys(r.metrics).length > 0)
        : found;
      return {
        ...base,
        count: readings.length,
        truncated: found.length === limit,
        readings: readings.flatMap((r) => {
          const time = isoOrNull(r.time);
          return time === null ? [] : [{ ...r, time }];
        }),
      };
    },
  );
}
