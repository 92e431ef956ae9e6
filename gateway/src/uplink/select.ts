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

/** Kafka when `kafka.brokers` is set, else the hub over HTTP (single-box mode). */
export function selectUplink(config: GatewayConfig, log: Logger): Uplink {
  const { gatewayId, site } = config;
  const brokers = config.kafka.brokers;
  if (brokers) {
    return {
      kind: 'kafka',
      name: 'Kafka',
      where: { brokers, topic: config.kafka.topic },
      sink: new KafkaSink({
        ...config.kafka,
        brokers,
        gatewayId,
        site,
        log: log.child({ module: 'kafka-sink' }),
      }),
    };
  }
  return {
    kind: 'hub',
    name: 'hub',
    where: { url: config.hub.url },
    sink: new HttpSink({ ...config.hub, gatewayId, site, log: log.child({ module: 'http-sink' }) }),
  };
}
