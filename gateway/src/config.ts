import {
  ConfigError,
  ID_PATTERN,
  KafkaClientSchema,
  KafkaSecuritySchema,
  type LoadConfigOptions,
  LogConfigSchema,
  listenProperties,
  loadConfig,
  SECRET,
} from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { MappingsSchema } from './config-mappings.ts';
import { checkModbusConfig, ModbusConfigSchema } from './config-modbus.ts';
import { GATEWAY_ENV_KEYS } from './env-keys.ts';

export const GatewayConfigSchema = Type.Object({
  gatewayId: Type.String({
    pattern: ID_PATTERN,
    default: 'gateway-1',
    description: 'Unique per gateway',
  }),
  site: Type.Optional(
    Type.String({
      pattern: ID_PATTERN,
      description: 'Where this gateway stands; sent with every reading',
    }),
  ),
  mqtt: Type.Object(
    {
      embedded: Type.Boolean({ default: true }),
      host: Type.String({ default: '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
      maxClients: Type.Integer({ minimum: 1, default: 1000 }),
      maxPacketBytes: Type.Integer({ minimum: 64, maximum: 268_435_455, default: 65_536 }),
      connectTimeoutMs: Type.Integer({
        minimum: 100,
        maximum: 60_000,
        default: 5000,
        description:
          'A connection must send CONNECT within this; until then it takes no client slot',
      }),
      maxPending: Type.Integer({ minimum: 1, default: 256 }),
      maxPendingPerAddress: Type.Integer({ minimum: 1, default: 32 }),
      authConcurrency: Type.Union(
        [Type.Literal('auto'), Type.Integer({ minimum: 1, maximum: 64 })],
        {
          default: 'auto',
          description:
            "Password checks (scrypt) at once, on libuv's threadpool; auto: one core less than the machine has, 1 to 2",
        },
      ),
      unauthenticated: Type.Object(
        {
          recordsPerMinute: Type.Number({ minimum: 0, default: 6 }),
          recordsBurst: Type.Integer({ minimum: 0, default: 10 }),
          maxQuarantineRows: Type.Integer({ minimum: 1, default: 1000 }),
        },
        {
          default: {},
          description: 'What peers that never authenticated can make the gateway store',
        },
      ),
      auth: Type.Union(
        [
          Type.Literal('none'),
          Type.Literal('password'),
          Type.Literal('certificate'),
          Type.Literal('password-or-certificate'),
        ],
        { default: 'none' },
      ),
      devicesFile: Type.String({ default: '' }),
      tls: Type.Object(
        {
          enabled: Type.Boolean({ default: false }),
          host: Type.String({ default: '0.0.0.0' }),
          port: Type.Integer({ minimum: 0, maximum: 65535, default: 8883 }),
          certFile: Type.String({ default: '' }),
          keyFile: Type.String({ default: '' }),
          caFile: Type.String({ default: '' }),
          requestClientCert: Type.Boolean({ default: false }),
        },
        { default: {} },
      ),
      external: Type.Object(
        {
          url: Type.String({ default: '' }),
          clientId: Type.String({ default: '' }),
          username: Type.String({ default: '' }),
          password: Type.String({ default: '', ...SECRET }),
          caFile: Type.String({ default: '' }),
          topics: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            default: ['iot/v1/+/data'],
          }),
        },
        { default: {} },
      ),
      mappings: MappingsSchema,
    },
    { default: {} },
  ),
  serial: Type.Object(
    {
      /** Largest frame the gateway accepts once a device said hello [FP-6.4]. */
      maxFrame: Type.Integer({ minimum: 254, maximum: 65_535, default: 1024 }),
      ports: Type.Array(
        Type.Object({
          path: Type.String({ minLength: 1 }),
          baudRate: Type.Integer({ minimum: 300, default: 115_200 }),
        }),
        { default: [] },
      ),
    },
    { default: {} },
  ),
  modbus: ModbusConfigSchema,
  clock: Type.Object(
    {
      maxAheadMs: Type.Integer({
        minimum: 0,
        default: 300_000,
        description:
          "A reading stamped further ahead of the gateway's receive time is a device clock fault (TIME_AHEAD)",
      }),
      maxBehindMs: Type.Integer({
        minimum: 0,
        default: 0,
        description:
          'A reading stamped further behind the receive time is a clock fault (TIME_BEHIND); 0 = no limit',
      }),
      policy: Type.Union([Type.Literal('quarantine'), Type.Literal('restamp')], {
        default: 'quarantine',
        description:
          "A clock fault (also TIME_INVALID: outside 2000..2100): quarantine the reading, or store it at the gateway's receive time with deviceTime",
      }),
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
      brokers: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          minItems: 1,
          description: 'Unset: single-box mode, readings go to the hub over HTTP (hub.url)',
        }),
      ),
      topic: Type.String({ minLength: 1, default: 'iot.readings' }),
      statusTopic: Type.String({ minLength: 1, default: 'iot.gateway-status' }),
      statusIntervalMs: Type.Integer({ minimum: 1000, default: 10_000 }),
      compression: Type.Union([Type.Literal('gzip'), Type.Literal('none')], { default: 'gzip' }),
      clientId: Type.String({ default: 'iot-gateway' }),
      batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 }),
      createTopic: Type.Boolean({ default: true }),
      topicPartitions: Type.Integer({ minimum: 1, default: 6 }),
      client: KafkaClientSchema,
      security: KafkaSecuritySchema,
    },
    { default: {} },
  ),
  hub: Type.Object(
    {
      url: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8080' }),
      token: Type.Optional(Type.String({ minLength: 1, ...SECRET })),
      timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    },
    {
      default: {},
      description: 'Single-box mode (no kafka.brokers): the hub that takes the readings',
    },
  ),
  http: Type.Object(
    {
      ...listenProperties(8081),
      maxBacklogAgeMs: Type.Integer({ minimum: 0, default: 300_000 }),
    },
    { default: {} },
  ),
  log: LogConfigSchema,
});

export type GatewayConfig = Static<typeof GatewayConfigSchema>;

export { GATEWAY_ENV_KEYS };

export function loadGatewayConfig(options: Omit<LoadConfigOptions, 'envKeys'>): GatewayConfig {
  const config = loadConfig(GatewayConfigSchema, { ...options, envKeys: GATEWAY_ENV_KEYS });
  const { mqtt } = config;
  if ((mqtt.auth === 'password' || mqtt.auth === 'password-or-certificate') && !mqtt.devicesFile) {
    throw new ConfigError(`mqtt.devicesFile: required when mqtt.auth is ${mqtt.auth}`);
  }
  const noModbus = config.modbus.buses.length === 0;
  if (!mqtt.embedded && !mqtt.external.url && config.serial.ports.length === 0 && noModbus) {
    throw new ConfigError(
      'mqtt.embedded is false, mqtt.external.url, serial.ports and modbus.buses are empty: the gateway would have no input',
    );
  }
  checkModbusConfig(config.modbus);
  if (mqtt.tls.enabled && (!mqtt.tls.certFile || !mqtt.tls.keyFile)) {
    throw new ConfigError(
      'mqtt.tls.certFile and mqtt.tls.keyFile: required when mqtt.tls.enabled is true',
    );
  }
  if (
    mqtt.auth !== 'none' &&
    mqtt.auth !== 'password' &&
    !(mqtt.tls.enabled && mqtt.tls.requestClientCert && mqtt.tls.caFile)
  ) {
    throw new ConfigError(
      `mqtt.tls: mqtt.auth ${mqtt.auth} needs tls.enabled, tls.requestClientCert and tls.caFile (the CA that signs device certificates)`,
    );
  }
  return config;
}

const DevicesFileSchema = Type.Record(
  Type.String({ pattern: ID_PATTERN }),
  Type.Object(
    { passwordHash: Type.Optional(Type.String({ pattern: '^scrypt\\$' })) },
    { additionalProperties: false },
  ),
);

/** One device in the devices file (mqtt.devicesFile). */
export interface DeviceEntry {
  passwordHash?: string | undefined;
}

/** Reads the devices file: `deviceId: { passwordHash: scrypt$... }` per device (see hash-password). */
export function loadDevicesFile(path: string): Record<string, DeviceEntry> {
  if (!path) return {};
  const devices = loadConfig(Type.Object({ devices: DevicesFileSchema }), { file: path });
  return devices.devices;
}
