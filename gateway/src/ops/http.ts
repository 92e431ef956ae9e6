import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type GatewaySnapshot, published, readiness } from './snapshot.ts';

export interface GatewayHttpOptions {
  snapshot: () => GatewaySnapshot;
  metrics: Registry;
  maxBacklogAgeMs: number;
  log: Logger;
}

/** One response, before it is written: what the routes produce and the tests read. */
export interface HttpAnswer {
  status: number;
  type: string;
  body: string;
}

export interface GatewayHttp {
  /** The response to `method path` (no socket): the routes below. */
  answer(method: string, path: string): Promise<HttpAnswer>;
  /** Listens; resolves to the base URL (`http://host:port`). */
  listen(at: { host: string; port: number }): Promise<string>;
  close(): Promise<void>;
}

const json = (status: number, body: unknown): HttpAnswer => ({
  status,
  type: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

/**
 * The gateway's HTTP surface, on node:http: four read-only routes need no web framework (fastify
 * and its dependencies were 1.3 of the bundle's 3.5 MB of JavaScript, loaded on every start):
 * - `GET /health/live`: 200 while the process runs (a liveness probe must not restart a
 *   gateway that is buffering through an uplink outage);
 * - `GET /health/ready`: 200 when the outbox takes writes, the uplink answers and the backlog is
 *   younger than `maxBacklogAgeMs`, else 503;
 * - `GET /health`: the full snapshot (with `kafka`, see `published`) plus those checks, with
 *   the readiness status code;
 * - `GET /metrics`: Prometheus text.
 * HEAD works wherever GET does; another method gets 405, another path 404, both as JSON.
 */
export function buildGatewayHttp(options: GatewayHttpOptions): GatewayHttp {
  const log = options.log.child({ module: 'http' });
  const check = () => {
    const snapshot = options.snapshot();
    return { snapshot, ...readiness(snapshot, options.maxBacklogAgeMs) };
  };
  const routes: Record<string, () => Promise<HttpAnswer> | HttpAnswer> = {
    '/health/live': () => json(200, { live: true }),
    '/health/ready': () => {
      const { ready, checks } = check();
      return json(ready ? 200 : 503, { ready, checks });
    },
    '/health': () => {
      const { snapshot, ready, checks } = check();
      const body = { status: ready ? 'ok' : 'degraded', live: true, ready, checks };
      return json(ready ? 200 : 503, { ...body, ...published(snapshot) });
    },
    '/metrics': async () => ({
      status: 200,
      type: options.metrics.contentType,
      body: await options.metrics.metrics(),
    }),
  };

  async function answer(method: string, path: string): Promise<HttpAnswer> {
    const route = routes[path.split('?')[0] ?? ''];
    if (!route) return json(404, { error: 'NOT_FOUND', message: `no route ${path}` });
    if (method !== 'GET' && method !== 'HEAD')
      return json(405, { error: 'METHOD_NOT_ALLOWED', message: `${method} ${path}: GET only` });
    try {
      return await route();
    } catch (err) {
      log.error({ err, path }, 'health route failed');
      return json(500, { error: 'INTERNAL', message: (err as Error).message });
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    answer(method, req.url ?? '/').then((a) => {
      res.writeHead(a.status, {
        'content-type': a.type,
        'content-length': Buffer.byteLength(a.body),
        ...(a.status === 405 ? { allow: 'GET, HEAD' } : {}),
      });
      res.end(method === 'HEAD' ? undefined : a.body);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  return {
    answer,
    listen: ({ host, port }) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { address, family, port: bound } = server.address() as AddressInfo;
          resolve(`http://${family === 'IPv6' ? `[${address}]` : address}:${bound}`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive scrapers would hold close() open
      }),
  };
}
