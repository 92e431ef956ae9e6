import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.ts';
import { loadDevicesFile } from '../config.ts';
import type { GatewaySnapshot } from '../ops/snapshot.ts';
import type { Outbox } from '../ports.ts';
import { GATEWAY_VERSION } from '../version.ts';
import { DeviceAuthenticator } from './mqtt/auth.ts';
import { ExternalMqttSource } from './mqtt/external-mqtt-source.ts';
import { MqttSource } from './mqtt/mqtt-source.ts';
import { SerialSource } from './serial/serial-source.ts';

export interface Sources {
  embedded: MqttSource | undefined;
  external: ExternalMqttSource | undefined;
  /** Ports the embedded broker listens on. */
  ports: { mqtt?: number; mqttTls?: number };
  counters(): GatewaySnapshot['sources'];
  stop(): Promise<void>;
}

/** Starts the configured inputs: the embedded broker and/or a subscription to an external one. */
export async function startSources(
  config: GatewayConfig,
  outbox: Outbox,
  onStored: () => void,
  log: Logger,
): Promise<Sources> {
  const { mqtt: m } = config;
  const embedded = m.embedded
    ? new MqttSource({
        host: m.host,
        port: m.port,
        maxClients: m.maxClients,
        maxPacketBytes: m.maxPacketBytes,
        connectTimeoutMs: m.connectTimeoutMs,
        maxPending: m.maxPending,
        maxPendingPerAddress: m.maxPendingPerAddress,
        unauthenticated: m.unauthenticated,
        auth: new DeviceAuthenticator(m.auth, loadDevicesFile(m.devicesFile), m.authConcurrency),
        tls: m.tls.enabled ? { ...m.tls, caFile: m.tls.caFile || undefined } : undefined,
        outbox,
        onStored,
        clock: config.clock,
        log: log.child({ module: 'mqtt-source' }),
      })
    : undefined;
  const external = m.external.url
    ? new ExternalMqttSource({
        url: m.external.url,
        clientId: m.external.clientId || config.gatewayId,
        username: m.external.username || undefined,
        password: m.external.password || undefined,
        caFile: m.external.caFile || undefined,
        topics: m.external.topics,
        outbox,
        onStored,
        clock: config.clock,
        log: log.child({ module: 'external-mqtt' }),
      })
    : undefined;
  const serial = config.serial.ports.map(
    (p) =>
      new SerialSource({
        path: p.path,
        baudRate: p.baudRate,
        identity: {
          gatewayId: config.gatewayId,
          firmware: `iot-gateway ${GATEWAY_VERSION}`,
          maxFrame: config.serial.maxFrame,
        },
        outbox,
        onStored,
        clock: config.clock,
        log: log.child({ module: 'serial', path: p.path }),
      }),
  );
  for (const s of serial) s.start();
  const ports: Sources['ports'] = {};
  if (embedded) {
    const started = await embedded.start();
    ports.mqtt = started.port;
    if (started.tlsPort !== undefined) ports.mqttTls = started.tlsPort;
  }
  await external?.start();
  return {
    embedded,
    external,
    ports,
    counters: () => ({
      ...(embedded ? { mqtt: embedded.counters } : {}),
      ...(external ? { mqttExternal: external.counters } : {}),
      ...Object.fromEntries(serial.map((s) => [s.source, s.counters])),
    }),
    async stop() {
      await embedded?.stop();
      await external?.stop();
      await Promise.all(serial.map((s) => s.stop()));
    },
  };
}
