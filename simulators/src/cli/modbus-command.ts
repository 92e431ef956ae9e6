import { parseArgs } from 'node:util';
import { usageError } from '../errors.ts';
import { buildDevices } from '../fleet-config.ts';
import { gatewayModbusConfig } from '../modbus/gateway-config.ts';
import type { Order, RegisterMapOptions } from '../modbus/register-map.ts';
import { ModbusTransport } from '../transports/modbus-transport.ts';
import {
  dur,
  FLEET_OPTIONS,
  fleetConfig,
  int,
  OUTPUT_OPTIONS,
  RUN_OPTIONS,
  str,
  type Values,
} from './args.ts';
import { runDevices } from './fleet-command.ts';
import type { CliIo } from './io.ts';
import { MODBUS_HELP } from './modbus-help.ts';

const MODBUS_OPTIONS = {
  rtu: { type: 'string' },
  tcp: { type: 'string' },
  baud: { type: 'string' },
  'first-unit': { type: 'string' },
  encoding: { type: 'string' },
  'word-order': { type: 'string' },
  'byte-order': { type: 'string' },
  'print-config': { type: 'boolean' },
  'gateway-serial': { type: 'string' },
  'poll-interval': { type: 'string' },
  'sample-count': { type: 'boolean' },
} as const;

/** [MB-SL 2.2] unit addresses on a serial line are 1..247. */
const LAST_UNIT = 247;

/** `iot-sim modbus`: the fleet as Modbus RTU / TCP servers, or their gateway config block. */
export async function modbusCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: { ...OUTPUT_OPTIONS, ...RUN_OPTIONS, ...FLEET_OPTIONS, ...MODBUS_OPTIONS },
    strict: true,
  }) as { values: Values };
  if (v.help) {
    io.stdout.write(MODBUS_HELP);
    return 0;
  }
  const rtuPath = str(v, 'rtu');
  const tcp = tcpAddress(str(v, 'tcp'));
  if (rtuPath === undefined && tcp === undefined)
    throw usageError('give the bus: --rtu PATH (a serial line) and/or --tcp [HOST:]PORT');
  const config = fleetConfig(v);
  const specs = buildDevices(config);
  const first = int(v, 'first-unit', 1) ?? 1;
  if (first + specs.length - 1 > LAST_UNIT)
    throw usageError(
      `${specs.length} devices from unit id ${first} pass ${LAST_UNIT}, the last unit address`,
    );
  const map = mapOptions(v);
  const baud = int(v, 'baud', 300);
  if (v['print-config']) {
    io.stdout.write(
      gatewayModbusConfig({
        units: specs.map((s, i) => ({
          deviceId: s.id,
          unitId: first + i,
          metrics: s.profile.metrics,
        })),
        map,
        rtu: rtuPath
          ? { path: str(v, 'gateway-serial') ?? rtuPath, baudRate: baud ?? 9600 }
          : undefined,
        tcp,
        pollIntervalMs: dur(v, 'poll-interval', 'ms') ?? config.intervalMs,
        sampleCount: v['sample-count'] === true,
      }),
    );
    return 0;
  }
  const transport = new ModbusTransport({
    unitIds: new Map(specs.map((s, i) => [s.id, first + i])),
    map,
    rtu: rtuPath ? { path: rtuPath, baud } : undefined,
    tcp,
  });
  return runDevices('modbus', v, io, config, specs, transport);
}

function tcpAddress(text: string | undefined): { host: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const colon = text.lastIndexOf(':');
  const host = colon >= 0 ? text.slice(0, colon) : '127.0.0.1';
  const port = Number(colon >= 0 ? text.slice(colon + 1) : text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535 || host === '')
    throw usageError(`--tcp must be [HOST:]PORT, got ${JSON.stringify(text)}`);
  return { host, port };
}

function mapOptions(v: Values): RegisterMapOptions {
  const encoding = str(v, 'encoding') ?? 'int';
  if (encoding !== 'int' && encoding !== 'float32')
    throw usageError(`--encoding must be int or float32, got ${JSON.stringify(encoding)}`);
  return { encoding, wordOrder: order(v, 'word-order'), byteOrder: order(v, 'byte-order') };
}

function order(v: Values, name: string): Order {
  const o = str(v, name) ?? 'big';
  if (o !== 'big' && o !== 'little')
    throw usageError(`--${name} must be big or little, got ${JSON.stringify(o)}`);
  return o;
}
