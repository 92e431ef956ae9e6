import { type LoadConfigOptions, loadConfig } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';

export const HubConfigSchema = Type.Object({
  kafka: Type.Object(
    {
      brokers: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        default: ['127.0.0.1:9092'],
      }),
      topic: Type.String({ minLength: 1, default: 'iot.readings' }),
      deadLetterTopic: Type.String({ minLength: 1, default: 'iot.readings.dlq' }),
      groupId: Type.String({ minLength: 1, default: 'iot-hub' }),
      clientId: Type.String({ default: 'iot-hub' }),
    },
    { default: {} },
  ),
  influx: Type.Object(
    {
      url: Type.String({ default: 'http://127.0.0.1:8086' }),
      database: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', default: 'iot' }),
      username: Type.Optional(Type.String()),
      password: Type.Optional(Type.String()),
    },
    { default: {} },
  ),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
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

export type HubConfig = Static<typeof HubConfigSchema>;

export const HUB_ENV_KEYS: Record<string, string> = {
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_TOPIC: 'kafka.topic',
  KAFKA_GROUP_ID: 'kafka.groupId',
  INFLUX_URL: 'influx.url',
  INFLUX_DATABASE: 'influx.database',
  INFLUX_USERNAME: 'influx.username',
  INFLUX_PASSWORD: 'influx.password',
  HUB_HTTP_PORT: 'http.port',
  LOG_LEVEL: 'log.level',
};

export function loadHubConfig(options: Omit<LoadConfigOptions, 'envKeys'>): HubConfig {
  return loadConfig(HubConfigSchema, { ...options, envKeys: HUB_ENV_KEYS });
}
