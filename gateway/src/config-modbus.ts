import { ConfigError, ID_PATTERN } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';

// The `modbus` section of the gateway configuration (config.ts): Modbus RTU and TCP buses the
// gateway polls (sources/modbus/). Its own file so the MQTT and serial keys stay readable.

const Order = Type.Union([Type.Literal('big'), Type.Literal('little')], { default: 'big' });

export const ModbusRegisterSchema = Type.Object({
  metric: Type.String({ pattern: ID_PATTERN, description: 'The metric name in the reading' }),
  kind: Type.Union(
    [
      Type.Literal('holding'),
      Type.Literal('input'),
      Type.Literal('coil'),
      Type.Literal('discrete'),
    ],
    { default: 'holding' },
  ),
  address: Type.Integer({ minimum: 0, maximum: 65_535, description: 'Zero-based, as on the wire' }),
  type: Type.Union(
    [
      Type.Literal('int16'),
      Type.Literal('uint16'),
      Type.Literal('int32'),
      Type.Literal('uint32'),
      Type.Literal('float32'),
      Type.Literal('bool'),
    ],
    { default: 'uint16', description: 'bool for coils and discrete inputs, and only for them' },
  ),
  wordOrder: { ...Order, description: '32-bit values: big = high word at the lower address' },
  byteOrder: { ...Order, description: 'Within each register: big = high byte first (the norm)' },
  scale: Type.Number({ default: 1, description: 'value = raw x scale + offset' }),
  offset: Type.Number({ default: 0 }),
  unit: Type.Optional(Type.String({ maxLength: 32 })),
});

export const ModbusDeviceSchema = Type.Object({
  deviceId: Type.String({ pattern: ID_PATTERN, description: 'Our device id for its readings' }),
  unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1 }),
  pollIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
  registers: Type.Array(ModbusRegisterSchema, { minItems: 1, maxItems: 64 }),
});

const Backoff = (minMs: number, maxMs: number) =>
  Type.Object(
    {
      minMs: Type.Integer({ minimum: 0, default: minMs }),
      maxMs: Type.Integer({ minimum: 0, default: maxMs }),
    },
    { default: {} },
  );

export const ModbusBusSchema = Type.Object({
  rtu: Type.Optional(
    Type.Object({
      path: Type.String({ minLength: 1, description: 'Prefer /dev/serial/by-id/...' }),
      baudRate: Type.Integer({ minimum: 300, default: 9600 }),
      parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')], {
        default: 'none',
      }),
      stopBits: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1 }),
      dataBits: Type.Union([Type.Literal(7), Type.Literal(8)], { default: 8 }),
    }),
  ),
  tcp: Type.Optional(
    Type.Object({
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65_535, default: 502 }),
    }),
  ),
  timeoutMs: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
  retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  retryBackoff: Backoff(100, 1000),
  reconnectBackoff: Backoff(500, 10_000),
  devices: Type.Array(ModbusDeviceSchema, { minItems: 1 }),
});

export const ModbusConfigSchema = Type.Object(
  { buses: Type.Array(ModbusBusSchema, { default: [] }) },
  { default: {} },
);

export type ModbusConfig = Static<typeof ModbusConfigSchema>;
export type ModbusBusConfig = Static<typeof ModbusBusSchema>;
export type ModbusDeviceConfig = Static<typeof ModbusDeviceSchema>;
export type ModbusRegisterConfig = Static<typeof ModbusRegisterSchema>;

/** The source name of a bus: `modbus:<serial path>` or `modbus:<host>:<port>`. */
export function modbusBusName(bus: ModbusBusConfig): string {
  return bus.rtu ? `modbus:${bus.rtu.path}` : `modbus:${bus.tcp?.host}:${bus.tcp?.port}`;
}

/** Registers a value of `type` spans. */
export const REGISTER_WORDS = { int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, bool: 1 };

/**
 * What the schema cannot say: each bus is RTU or TCP, device ids are unique, a bool is a coil
 * or discrete input and nothing else is, a value fits below address 65536. Throws ConfigError
 * naming the key.
 */
export function checkModbusConfig(modbus: ModbusConfig): void {
  const devices = new Set<string>();
  const buses = new Set<string>();
  modbus.buses.forEach((bus, b) => {
    const at = `modbus.buses.${b}`;
    if (Boolean(bus.rtu) === Boolean(bus.tcp))
      throw new ConfigError(`${at}: give either rtu (a serial path) or tcp (host, port), not both`);
    const name = modbusBusName(bus);
    if (buses.has(name)) throw new ConfigError(`${at}: ${name} is configured twice`);
    buses.add(name);
    if (bus.retryBackoff.maxMs < bus.retryBackoff.minMs)
      throw new ConfigError(`${at}.retryBackoff.maxMs: below retryBackoff.minMs`);
    if (bus.reconnectBackoff.maxMs < bus.reconnectBackoff.minMs)
      throw new ConfigError(`${at}.reconnectBackoff.maxMs: below reconnectBackoff.minMs`);
    bus.devices.forEach((device, d) => {
      const dat = `${at}.devices.${d}`;
      if (devices.has(device.deviceId))
        throw new ConfigError(`${dat}.deviceId: ${device.deviceId} is used twice`);
      devices.add(device.deviceId);
      const metrics = new Set<string>();
      device.registers.forEach((r, i) => {
        const rat = `${dat}.registers.${i}`;
        if (metrics.has(r.metric))
          throw new ConfigError(`${rat}.metric: ${r.metric} appears twice in ${device.deviceId}`);
        metrics.add(r.metric);
        const bit = r.kind === 'coil' || r.kind === 'discrete';
        if (bit !== (r.type === 'bool'))
          throw new ConfigError(
            `${rat}.type: ${r.type} on a ${r.kind}; coils and discrete inputs are bool, registers are not`,
          );
        if (r.address + REGISTER_WORDS[r.type] > 65_536)
          throw new ConfigError(`${rat}.address: ${r.type} at ${r.address} runs past 65535`);
      });
    });
  });
}
