import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { type GatewayConfig, loadDevicesFile } from '../config.ts';
import type { AckStore, Outbox, Source, SourceCounters, SourcePorts } from '../ports.ts';
import { GATEWAY_VERSION } from '../version.ts';
import { compileMappings, type Mappings } from './mapping/rules.ts';
import { modbusSource } from './modbus/wiring.ts';
import { DeviceAuthenticator } from './mqtt/auth.ts';
import { ExternalMqttSource } from './mqtt/external-mqtt-source.ts';
import { MqttSource } from './mqtt/mqtt-source.ts';
import { SerialSource } from './serial/serial-source.ts';

/** What every source is built with. */
export interface SourceDeps {
  outbox: Outbox;
  /** The serial links' acknowledgements (the outbox's file). */
  acks: AckStore;
  /** Called after a reading is committed (wakes the forwarder). */
  onStored: () => void;
  log: Logger;
}

/** One kind of input: what it is, and the sources the configuration asks for (none when off). */
export interface SourceKind {
  summary: string;
  create(config: GatewayConfig, deps: SourceDeps): Source[];
}

/**
 * Every kind of input the gateway has, in the order they start, stop and appear in `/health`.
 * A new kind is one entry here and one folder beside mqtt/, serial/ and modbus/.
 */
export const SOURCE_KINDS: Readonly<Record<string, SourceKind>> = {
  mqtt: {
    summary: 'the embedded MQTT broker (aedes): mqtt.embedded, mqtt.port, mqtt.tls',
    create: ({ mqtt: m, clock }, { outbox, onStored, log }) =>
      m.embedded
        ? [
            new MqttSource({
              host: m.host,
              port: m.port,
              maxClients: m.maxClients,
              maxPacketBytes: m.maxPacketBytes,
              connectTimeoutMs: m.connectTimeoutMs,
              maxPending: m.maxPending,
              maxPendingPerAddress: m.maxPendingPerAddress,
              unauthenticated: m.unauthenticated,
              auth: new DeviceAuthenticator(
                m.auth,
                loadDevicesFile(m.devicesFile),
                authConcurrency(m.authConcurrency),
                (topic) => mappingsOf(m.mappings).deviceOf(topic),
              ),
              tls: m.tls.enabled ? { ...m.tls, caFile: m.tls.caFile || undefined } : undefined,
              outbox,
              onStored,
              clock,
              mappings: mappingsOf(m.mappings),
              log: log.child({ module: 'mqtt-source' }),
            }),
          ]
        : [],
  },
  mqttExternal: {
    summary: 'a subscription to an external MQTT broker (Mosquitto): mqtt.external.url',
    create: ({ mqtt: { external: e, mappings }, gatewayId, clock }, { outbox, onStored, log }) =>
      e.url
        ? [
            new ExternalMqttSource({
              url: e.url,
              clientId: e.clientId || gatewayId,
              username: e.username || undefined,
              password: e.password || undefined,
              caFile: e.caFile || undefined,
              topics: e.topics,
              outbox,
              onStored,
              clock,
              mappings: mappingsOf(mappings),
              log: log.child({ module: 'external-mqtt' }),
            }),
          ]
        : [],
  },
  serial: {
    summary: 'one serial port per serial.ports entry, speaking the firmware protocol',
    create: ({ serial, gatewayId, clock }, { outbox, acks, onStored, log }) =>
      serial.ports.map(
        (p) =>
          new SerialSource({
            path: p.path,
            baudRate: p.baudRate,
            identity: {
              gatewayId,
              firmware: `iot-gateway ${GATEWAY_VERSION}`,
              maxFrame: serial.maxFrame,
            },
            outbox,
            acks,
            onStored,
            clock,
            log: log.child({ module: 'serial', path: p.path }),
          }),
      ),
  },
  modbus: {
    summary: 'one poller per modbus.buses entry (Modbus RTU on a serial line, or Modbus TCP)',
    create: (config, { outbox, onStored, log }) =>
      config.modbus.buses.map((bus) => modbusSource(bus, config, { outbox, onStored, log })),
  },
};

const compiled = new WeakMap<readonly unknown[], Mappings>();

/**
 * The mapping rules (mqtt.mappings) compiled once for both brokers; a rule that could never
 * work throws ConfigError (exit 2) naming its key, before any source starts.
 */
function mappingsOf(rules: GatewayConfig['mqtt']['mappings']): Mappings {
  let mappings = compiled.get(rules);
  if (mappings === undefined) {
    mappings = compileMappings(rules);
    compiled.set(rules, mappings);
  }
  return mappings;
}

/** The sources the configuration asks for, built but not started. */
export function createSources(config: GatewayConfig, deps: SourceDeps): Source[] {
  return Object.values(SOURCE_KINDS).flatMap((kind) => kind.create(config, deps));
}

export interface RunningSources {
  /** Ports each source listens on, by source name (`mqtt`: the embedded broker's). */
  ports: Readonly<Record<string, SourcePorts>>;
  /** Each source's counters, by name. */
  counters(): Record<string, SourceCounters>;
  stop(): Promise<void>;
}

/** Starts the sources one after the other, in their order; stops them in the same order. */
export async function startSources(sources: readonly Source[]): Promise<RunningSources> {
  const ports: Record<string, SourcePorts> = {};
  for (const source of sources) ports[source.name] = await source.start();
  return {
    ports,
    counters: () => Object.fromEntries(sources.map((s) => [s.name, s.counters])),
    async stop() {
      for (const source of sources) await source.stop();
    },
  };
}

/**
 * How many password checks run at once: as configured, or (auto) one core less than the
 * machine has, between 1 and 2, so the event loop (every device's acknowledgements) keeps a
 * core to itself while a fleet logs in.
 */
export function authConcurrency(setting: number | 'auto', cores = availableParallelism()): number {
  return setting === 'auto' ? Math.max(1, Math.min(2, cores - 1)) : setting;
}
