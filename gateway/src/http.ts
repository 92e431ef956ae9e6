import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';

export interface GatewayHealth {
  status: 'ok' | 'degraded';
  [key: string]: unknown;
}

/** The gateway's small HTTP surface: `GET /health` (liveness plus the counters operators need). */
export function buildGatewayHttp(health: () => GatewayHealth, log: Logger) {
  const app = Fastify({
    loggerInstance: log.child({ module: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Always 200 while the process runs (a liveness probe must not restart a gateway that is
  // buffering through an uplink outage); `status` says whether it is forwarding.
  app.get('/health', async () => health());
  return app;
}
