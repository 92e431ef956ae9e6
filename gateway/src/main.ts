import pino, { type Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import { buildGatewayHttp } from './ops/http.ts';
import { buildMetrics } from './ops/metrics.ts';
import { takeSnapshot } from './ops/snapshot.ts';
import { SqliteOutbox } from './outbox/sqlite-outbox.ts';
import { createSources, startSources } from './sources/registry.ts';
import { UplinkConnection } from './uplink/connection.ts';
import { Forwarder } from './uplink/forwarder.ts';
import { selectUplink } from './uplink/select.ts';
import { StatusReporter } from './uplink/status-reporter.ts';

export interface RunningGateway {
  /** Embedded broker port (undefined when it is off). */
  mqttPort: number | undefined;
  httpUrl: string;
  stop(): Promise<void>;
}

/** Wires the gateway's adapters together. The only place that constructs them. */
export async function startGateway(config: GatewayConfig, log?: Logger): Promise<RunningGateway> {
  const logger =
    log ??
    pino({ level: config.log.level, base: { app: 'iot-gateway', gatewayId: config.gatewayId } });
  const outbox = new SqliteOutbox({
    ...config.outbox,
    maxUnauthenticatedQuarantineRows: config.mqtt.unauthenticated.maxQuarantineRows,
  });
  if (outbox.recovered) {
    logger.error(
      outbox.recovered,
      'outbox file was corrupt: moved aside, continuing with a fresh outbox',
    );
  }
  logger.info({ path: config.outbox.path, backlog: outbox.stats().backlogRows }, 'outbox open');
  // The inputs open before the uplink's client loads: @platformatic/kafka takes 0.3-0.9 s to
  // import (its validators and WebAssembly), and a device refused meanwhile backs off or
  // retransmits. What they store waits in the outbox until the forwarder starts.
  let onStored = () => {};
  const sources = await startSources(
    createSources(config, { outbox, acks: outbox, onStored: () => onStored(), log: logger }),
  );
  const uplink = await selectUplink(config, logger).catch(async (err: unknown) => {
    await sources.stop();
    outbox.close();
    throw err;
  });
  const forwarder = new Forwarder({
    outbox,
    sink: uplink.sink,
    batchSize: config.kafka.batchSize,
    log: logger.child({ module: 'forwarder' }),
  });
  onStored = () => forwarder.notify();
  // Readings are accepted while the uplink is unreachable: they wait in the outbox.
  const connection = new UplinkConnection({
    uplink,
    log: logger,
    onConnected: () => forwarder.start(),
  });
  connection.start();

  const startedAt = Date.now();
  const snapshot = () =>
    takeSnapshot({
      gatewayId: config.gatewayId,
      startedAt,
      now: Date.now,
      outbox,
      uplink: () => ({
        kind: uplink.kind,
        connected: connection.connected,
        lastError: forwarder.lastError ?? null,
      }),
      sources: sources.counters,
      forwarder,
    });
  const status = new StatusReporter({
    intervalMs: config.kafka.statusIntervalMs,
    snapshot,
    send: (record) => uplink.sink.sendStatus(config.gatewayId, record),
    log: logger.child({ module: 'status' }),
  });
  status.start();
  const http = buildGatewayHttp({
    snapshot,
    metrics: buildMetrics(snapshot),
    maxBacklogAgeMs: config.http.maxBacklogAgeMs,
    log: logger,
  });
  const httpUrl = await http.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url: `${httpUrl}/health` }, 'health endpoint listening');

  return {
    mqttPort: sources.ports.mqtt?.port,
    httpUrl,
    async stop() {
      connection.abort();
      logger.info('stopping');
      await sources.stop();
      status.stop();
      await forwarder.stop();
      await connection.stopped();
      await uplink.sink.disconnect().catch(() => undefined);
      await http.close();
      outbox.close();
      logger.info('stopped');
    },
  };
}
