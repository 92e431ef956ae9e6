import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { LiveFeed } from '../dashboard/live-feed.ts';
import { dashboardRoutes } from '../dashboard/plugin.ts';
import type { Rule } from '../detect/rules.ts';
import type { HubQueries, ReadingStore } from '../ports.ts';
import { bearerAuth } from './auth.ts';
import { error } from './http-errors.ts';
import { deviceRoutes } from './routes-devices.ts';
import { type IngestTarget, ingestRoutes } from './routes-ingest.ts';
import { miscRoutes } from './routes-misc.ts';

export interface ApiOptions {
  store: ReadingStore;
  queries?: HubQueries;
  health: () => Promise<Record<string, unknown>>;
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
 */
export function buildApi(options: ApiOptions) {
  const now = options.now ?? Date.now;
  const app = Fastify({
    loggerInstance: options.log.child({ module: 'api' }),
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
  });
  app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 600,
    timeWindow: 60_000,
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      ...error('RATE_LIMITED', `at most ${ctx.max} requests per minute; retry in ${ctx.after}`),
    }),
  });
  app.register(swagger, {
    openapi: {
      info: { title: 'iot-hub REST API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  app.register(async (open) => {
    open.get(
      '/api/health',
      { schema: { summary: 'Pipeline health (no auth)', security: [] } },
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

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return reply.code(400).send(error('BAD_REQUEST', err.message));
    if (err.statusCode === 429) return reply.code(429).send(err);
    options.log.error({ err }, 'request failed');
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 503;
    return reply
      .code(status)
      .send(error('QUERY_FAILED', `the request could not be answered: ${err.message}`));
  });
  return app;
}
