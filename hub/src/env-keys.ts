/** Environment variables that override settings (README "Hub configuration"). */
export const HUB_ENV_KEYS: Record<string, string> = {
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_TOPIC: 'kafka.topic',
  KAFKA_GROUP_ID: 'kafka.groupId',
  KAFKA_SASL_USERNAME: 'kafka.security.sasl.username',
  KAFKA_SASL_PASSWORD: 'kafka.security.sasl.password',
  INFLUX_URL: 'influx.url',
  INFLUX_DATABASE: 'influx.database',
  INFLUX_USERNAME: 'influx.username',
  INFLUX_PASSWORD: 'influx.password',
  HUB_HTTP_PORT: 'http.port',
  HUB_DATA_DIR: 'storage.dir',
  HUB_API_TOKEN: 'http.token',
  HUB_RULES_FILE: 'stream.rulesFile',
  HUB_WEBHOOK_URL: 'webhook.url',
  HUB_INSTANCE: 'health.instance',
  LOG_LEVEL: 'log.level',
};
