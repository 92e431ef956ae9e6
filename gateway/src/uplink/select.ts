import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.ts';
import type { Sink, UplinkKind } from '../ports.ts';
import { HttpSink } from './http-sink.ts';
import { KafkaSink } from './kafka-sink.ts';

export interface Uplink {
  kind: UplinkKind;
  /** How logs name it: `Kafka connected`, `hub unreachable; buffering`. */
  name: string;
  /** Where it sends, for logs. */
  where: Record<string, unknown>;
  sink: Sink;
}

/**
 * Kafka when `kafka.brokers` is set, through the client `kafka.client` names, else the hub
 * over HTTP (single-box mode). @platformatic/kafka is imported only when chosen: loading it
 * compiles its WebAssembly, memory a kafkajs gateway has no use for.
 */
export async function selectUplink(config: GatewayConfig, log: Logger): Promise<Uplink> {
  const { gatewayId, site } = config;
  const { brokers, client, topic } = config.kafka;
  if (brokers) {
    const options = { ...config.kafka, brokers, gatewayId, site };
    const sink =
      client === 'platformatic'
        ? new (await import('./platformatic/platformatic-sink.ts')).PlatformaticKafkaSink({
            ...options,
            log: log.child({ module: 'kafka-sink', client }),
          })
        : new KafkaSink({ ...options, log: log.child({ module: 'kafka-sink' }) });
    return { kind: 'kafka', name: 'Kafka', where: { brokers, topic, client }, sink };
  }
  return {
    kind: 'hub',
    name: 'hub',
    where: { url: config.hub.url },
    sink: new HttpSink({ ...config.hub, gatewayId, site, log: log.child({ module: 'http-sink' }) }),
  };
}
