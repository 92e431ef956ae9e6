import { type KafkaSecurity, platformaticSecurityOptions } from '@iot-stream/contracts';
import type { Consumer, MessagesStream } from '@platformatic/kafka';

/** What every @platformatic/kafka client of the hub is given: brokers, id, TLS and SASL. */
export interface PlatformaticConnection {
  clientId: string;
  bootstrapBrokers: string[];
  tls?: ReturnType<typeof platformaticSecurityOptions>['tls'];
  sasl?: ReturnType<typeof platformaticSecurityOptions>['sasl'];
  /** Per request (the library retries a failed request this often, 1 s apart, then fails). */
  retries: number;
}

export function platformaticConnection(
  brokers: readonly string[],
  clientId: string,
  security: KafkaSecurity,
): PlatformaticConnection {
  return {
    clientId,
    bootstrapBrokers: [...brokers],
    ...platformaticSecurityOptions(security),
    retries: 5,
  };
}

/** Our records' keys, values and header values are strings or Buffers; Kafka takes bytes. */
export function toBytes(data?: unknown): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  return Buffer.isBuffer(data) ? data : Buffer.from(String(data));
}

export const bytesSerializers = {
  key: toBytes,
  value: toBytes,
  headerKey: toBytes,
  headerValue: toBytes,
};

/**
 * The consumer's stream over one topic as both hub consumers read it: from the group's
 * committed offsets (the earliest where there are none), nothing committed automatically.
 */
export function consumeCommitted(
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  topic: string,
): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
  return consumer.consume({
    topics: [topic],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: false,
  });
}
