import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type GatewaySnapshot, published, readiness } from './snapshot.ts';

export interface GatewayHttpOptions {
  snapshot: () => GatewaySnapshot;
  metrics: Registry;
  maxBacklogAgeMs: number;
  log: Logger;
}

/**
 * The gateway's HTTP surface:
 * - `GET /health/live`: 200 while the process runs (a liveness probe must not restart a
 *   gateway that is buffering through an uplink outage);
 * - `GET /health/ready`: 200 when the outbox takes writes, the uplink answers and the backlog is
 *   younger than `maxBacklogAgeMs`, else 503;
 * - `GET /health`: the full snapshot (with `kafka`, see `published`) plus those checks, with
 *   the readiness status code;
 * - `GET /metrics`: Prometheus text.
 */
export function buildGatewayHttp(options: GatewayHttpOptions) {
  const app = Fastify({
    loggerInstance: options.log.child({ module: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  const check = () => {
    const snapshot = options.snapshot();
    return { snapshot, ...readiness(snapshot, options.maxBacklogAgeMs) };
  };
  app.get('/health/live', async () => ({ live: true }));
  app.get('/health/ready', async (_req, reply) => {
    const { ready, checks } = check();
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
  app.get('/health', async (_req, reply) => {
    const { snapshot, ready, checks } = check();
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ok' : 'degraded',
      live: true,
      ready,
      checks,
      ...published(snapshot),
    });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(options.metrics.contentType).send(await options.metrics.metrics());
  });
  return app;
}
