import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HubQueries } from '../../ports.ts';
import { bearerAuth } from '../api/auth.ts';
import { errorResponses } from '../api/http-errors.ts';
import { HealthTicker, type LiveHealth } from './health-ticker.ts';
import type { LiveFeed } from './live-feed.ts';
import type { AnomalyEvent, ReadingsEvent, SeenEvent } from './pipeline-feed.ts';

export interface DashboardOptions {
  feed: LiveFeed;
  /** The REST API's bearer token; the stream also takes it as `?token=` (EventSource). */
  token?: string | undefined;
  /** The `/api/health` body, for the periodic `health` event. */
  health: () => Promise<Record<string, unknown>>;
  queries: Pick<HubQueries, 'gateways'>;
  log: Logger;
  healthIntervalMs?: number;
}

/**
 * The events of GET /api/stream by name, with their data. The page (static/*.js) takes its
 * types from here, so a change to an event that the page does not follow fails the typecheck.
 */
export interface StreamEvents {
  seen: SeenEvent;
  readings: ReadingsEvent;
  anomaly: AnomalyEvent;
  health: LiveHealth;
}

const STATIC_ROOT = fileURLToPath(new URL('./static/', import.meta.url));
const UPLOT_DIST = join(
  dirname(createRequire(import.meta.url).resolve('uplot/package.json')),
  'dist',
);
const VENDOR_FILES = new Set(['/uPlot.iife.min.js', '/uPlot.min.css']);
/** The page loads only its own files and talks only to this hub. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const StreamQuery = Type.Object(
  {
    token: Type.Optional(
      Type.String({ description: 'http.token, for clients that cannot send headers' }),
    ),
    devices: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]{1,64}(,[A-Za-z0-9._-]{1,64}){0,31}$',
        description: 'comma-separated device ids whose `readings` events to send; default none',
      }),
    ),
  },
  { additionalProperties: false },
);
type StreamQuery = Static<typeof StreamQuery>;

/**
 * The built-in dashboard: static page at /dashboard/ (/ redirects there), uPlot from
 * node_modules at /dashboard/vendor/, and the live stream GET /api/stream (server-sent events:
 * `seen`, `readings`, `anomaly`, `health`). No build step: the files are served as they are.
 */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions) {
  const ticker = new HealthTicker(options.feed, {
    health: options.health,
    gateways: (since) => options.queries.gateways(since),
    log: options.log.child({ module: 'dashboard' }),
    intervalMs: options.healthIntervalMs,
  });
  app.addHook('onReady', async () => ticker.start());
  // Open streams would keep the server from closing.
  app.addHook('preClose', async () => {
    ticker.stop();
    options.feed.disconnectAll();
  });

  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard', { schema: { hide: true } }, (_req, reply) =>
    reply.redirect('/dashboard/', 301),
  );
  await app.register(fastifyStatic, {
    root: STATIC_ROOT,
    prefix: '/dashboard/',
    redirect: true,
    decorateReply: false,
    cacheControl: false,
    dotfiles: 'ignore',
    setHeaders: (reply, path) => {
      reply.header('cache-control', 'no-cache');
      if (path.endsWith('.html')) {
        reply.header('content-security-policy', CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
      }
    },
  });
  await app.register(fastifyStatic, {
    root: UPLOT_DIST,
    prefix: '/dashboard/vendor/',
    decorateReply: false,
    allowedPath: (path) => VENDOR_FILES.has(path),
    maxAge: 3_600_000,
  });

  app.get<{ Querystring: StreamQuery }>(
    '/api/stream',
    {
      schema: {
        summary: 'Live dashboard events (text/event-stream): seen, readings, anomaly, health',
        description:
          'Server-sent events. `seen`: devices with readings in the last flush; `readings`: ' +
          'a device’s new readings (only for `devices`); `anomaly`: episode events; `health`: ' +
          'throughput, consumer lag and gateway backlog every few seconds. Times in epoch ms. ' +
          'With http.token set, send the bearer header or `?token=`.',
        querystring: StreamQuery,
        // Behind the token like the rest of /api (the bearer header, or `?token=`).
        security: [{ bearer: [] }],
        response: {
          200: {
            description: 'the event stream, open until the client goes away',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses('BAD_REQUEST', 'UNAUTHORISED', 'RATE_LIMITED', 'QUERY_FAILED'),
        },
      },
      onRequest: options.token ? bearerAuth(options.token, { queryParam: 'token' }) : [],
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n: connected\n\n');
      const topics = new Set(req.query.devices?.split(',') ?? []);
      const unsubscribe = options.feed.subscribe(
        {
          write: (frame) => res.write(frame),
          onDrain: (listener) => res.once('drain', listener),
          close: () => res.destroy(),
        },
        { topics },
      );
      // A client that went away (or a socket error): tear the socket down, or a half-closed
      // one would hold the server's close() until it timed out.
      const gone = () => {
        unsubscribe();
        res.destroy();
      };
      res.on('close', gone);
      res.on('error', gone);
    },
  );
}
