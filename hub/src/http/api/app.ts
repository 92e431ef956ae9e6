import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyError, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Rule } from '../../detect/rules.ts';
import type { HubQueries, ReadingStore } from '../../ports.ts';
import type { LiveFeed } from '../dashboard/live-feed.ts';
import { dashboardRoutes } from '../dashboard/plugin.ts';
import { bearerAuth } from './auth.ts';
import { genReqId, routeTable, sendError } from './error-handling.ts';
import { error, errorResponses } from './http-errors.ts';
import { openapiOptions } from './openapi.ts';
import { deviceRoutes } from './routes-devices.ts';
import { type IngestTarget, ingestRoutes } from './routes-ingest.ts';
import { miscRoutes } from './routes-misc.ts';
import { jsonBodyParser, validatorCompiler } from './validation.ts';

/**
 * The body of GET /api/health, as main.ts builds it. Only `status` is always there (a hub
 * embedded in a test may give no more); the dashboard reads the rest when present. A type
 * alias, not an interface, so that it stays a `Record<string, unknown>` for the health ticker.
 */
export type HealthBody = {
  /** `ok` or `degraded`. */
  status: string;
  mode?: 'kafka' | 'single-box';
  /** Kafka mode: the consumer's state; null in single-box mode. */
  kafka?: { connected: boolean; topic: string; groupId: string } | null;
  store?: { kind: 'influx' | 'sqlite'; ok: boolean };
  /** With InfluxDB as the store. */
  influx?: { ok: boolean };
  /** Partitions whose store writes keep failing. */
  writes?: { ok: boolean; failing: { partition: number; since: string; code: string }[] };
  /** The source's and the pipeline's counters; `lag` per partition. */
  pipeline?: { lag?: Record<string, number> } & Record<string, unknown>;
};

export interface ApiOptions {
  store: ReadingStore;
  queries?: HubQueries;
  health: () => Promise<HealthBody>;
  /** Prometheus text for GET /metrics. */
  metrics?: () => Promise<string>;
  rules?: readonly Rule[];
  /** Bearer token for /api/* except /api/health; undefined: open (main.ts warns). */
  token?: string | undefined;
  rateLimitPerMinute?: number;
  log: Logger;
  now?: () => number;
  /** Single-box mode: POST /api/ingest (and /api/ingest/status) store here. */
  ingest?: IngestTarget | undefined;
  /** The dashboard's live events; given: the dashboard at / and GET /api/stream. */
  live?: LiveFeed;
}

const NO_QUERIES: HubQueries = {
  series: async () => [],
  devices: async () => [],
  anomalies: async () => [],
  gateways: async () => [],
};

/**
 * Builds the hub's REST API (no listening here: see main.ts): OpenAPI at /docs, rate limits
 * per client address, bearer auth on /api/* except health; /metrics and /docs are open.
 * Query strings and path parameters are coerced to their schema's types, bodies never
 * (validation.ts); every error is answered with a code from http-errors.ts (error-handling.ts).
 */
export function buildApi(options: ApiOptions) {
  const now = options.now ?? Date.now;
  const app = Fastify({
    loggerInstance: options.log.child({ module: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId,
    frameworkErrors: (err, req, reply) => sendError(err as FastifyError, req, reply),
  });
  app.setValidatorCompiler(validatorCompiler());
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser);
  const routes = routeTable();
  app.addHook('onRoute', routes.onRoute);
  app.setNotFoundHandler(routes.notFound);
  app.setErrorHandler((err: FastifyError, req, reply) =>
    sendError(err, req, reply, routes.notFound),
  );
  app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      ...error('RATE_LIMITED', `at most ${ctx.max} requests per minute; retry in ${ctx.after}`),
    }),
  });
  app.register(swagger, openapiOptions);
  app.register(swaggerUi, { routePrefix: '/docs' });

  app.register(async (open) => {
    open.get(
      '/api/health',
      {
        schema: {
          summary: 'Pipeline health (no auth)',
          security: [],
          response: {
            200: Type.Object(
              { status: Type.String({ description: '`ok` or `degraded`' }) },
              { additionalProperties: true },
            ),
            ...errorResponses('RATE_LIMITED', 'QUERY_FAILED'),
          },
        },
      },
      async () => options.health(),
    );
    open.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics (no auth)', security: [], hide: true } },
      async (_req, reply) => {
        reply.type('text/plain; version=0.0.4');
        return options.metrics ? options.metrics() : '';
      },
    );
  });
  app.register(async (api) => {
    if (options.token) api.addHook('onRequest', bearerAuth(options.token));
    const queries = options.queries ?? NO_QUERIES;
    await deviceRoutes(api, { store: options.store, queries, now });
    await miscRoutes(api, { queries, rules: options.rules ?? [], now });
    if (options.ingest) await ingestRoutes(api, options.ingest);
  });

  // The built-in dashboard (hub/docs/dashboard.md): its own auth for the stream (?token=).
  const { live } = options;
  if (live)
    app.register(dashboardRoutes, {
      feed: live,
      token: options.token,
      health: options.health,
      queries: options.queries ?? NO_QUERIES,
      log: options.log,
    });
  return app;
}
