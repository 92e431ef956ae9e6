import { ID_PATTERN, type LoadConfigOptions, loadConfig } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';

export const GatewayConfigSchema = Type.Object({
  gatewayId: Type.String({
    pattern: ID_PATTERN,
    default: 'gateway-1',
    description: 'Unique per gateway',
  }),
  mqtt: Type.Object(
    {
      host: Type.String({ default: '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
    },
    { default: {} },
  ),
  outbox: Type.Object(
    {
      path: Type.String({ default: './data/outbox.sqlite' }),
      synchronous: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], { default: 'FULL' }),
      batchWindowMs: Type.Number({ minimum: 0, maximum: 1000, default: 2 }),
      maxBatch: Type.Integer({ minimum: 1, maximum: 100_000, default: 2000 }),
      maxRows: Type.Integer({ minimum: 0, default: 0 }),
      maxBytes: Type.Integer({ minimum: 0, default: 1024 ** 3 }),
      whenFull: Type.Union([Type.Literal('reject'), Type.Literal('drop-oldest')], {
        default: 'reject',
      }),
      ttlMs: Type.Integer({ minimum: 0, default: 0 }),
      dedupWindowMs: Type.Integer({ minimum: 0, default: 600_000 }),
      maxQuarantineRows: Type.Integer({ minimum: 1, default: 100_000 }),
    },
    { default: {} },
  ),
  kafka: Type.Object(
    {
      brokers: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        default: ['127.0.0.1:9092'],
      }),
      topic: Type.String({ minLength: 1, default: 'iot.readings' }),
      clientId: Type.String({ default: 'iot-gateway' }),
      batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
      createTopic: Type.Boolean({ default: true }),
      topicPartitions: Type.Integer({ minimum: 1, default: 6 }),
    },
    { default: {} },
  ),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
    },
    { default: {} },
  ),
  log: Type.Object(
    {
      level: Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
        { default: 'info' },
      ),
    },
    { default: {} },
  ),
});

export type GatewayConfig = Static<typeof GatewayConfigSchema>;

/** Environment variables that override connection settings (documented in README.md). */
export const GATEWAY_ENV_KEYS: Record<string, string> = {
  GATEWAY_ID: 'gatewayId',
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_TOPIC: 'kafka.topic',
  MQTT_PORT: 'mqtt.port',
  OUTBOX_PATH: 'outbox.path',
  GATEWAY_HTTP_PORT: 'http.port',
  LOG_LEVEL: 'log.level',
};

export function loadGatewayConfig(options: Omit<LoadConfigOptions, 'envKeys'>): GatewayConfig {
  return loadConfig(GatewayConfigSchema, { ...options, envKeys: GATEWAY_ENV_KEYS });
}
