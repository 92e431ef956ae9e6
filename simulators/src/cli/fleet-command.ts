import { parseArgs } from 'node:util';
import { LabelFile } from '../anomalies/labels.ts';
import { type DeviceSpec, SimDevice } from '../device.ts';
import { usageError } from '../errors.ts';
import { buildDevices, type FleetConfig } from '../fleet-config.ts';
import type { Transport } from '../ports.ts';
import {
  clockFor,
  FLEET_OPTIONS,
  fleetConfig,
  list,
  MQTT_OPTIONS,
  maxKept,
  mqttTransport,
  OUTPUT_OPTIONS,
  RUN_OPTIONS,
  SERIAL_OPTIONS,
  serialTransport,
  str,
  type Values,
} from './args.ts';
import { execute } from './execute.ts';
import { MQTT_HELP, SERIAL_HELP } from './help.ts';
import type { CliIo } from './io.ts';

/** `iot-sim mqtt` and `iot-sim serial`: a simulated fleet over one transport. */
export async function fleetCommand(
  kind: 'mqtt' | 'serial',
  argv: string[],
  io: CliIo,
): Promise<number> {
  const transportOptions = kind === 'mqtt' ? MQTT_OPTIONS : SERIAL_OPTIONS;
  const { values: v } = parseArgs({
    args: argv,
    options: { ...OUTPUT_OPTIONS, ...RUN_OPTIONS, ...FLEET_OPTIONS, ...transportOptions },
    strict: true,
  }) as { values: Values };
  if (v.help) {
    io.stdout.write(kind === 'mqtt' ? MQTT_HELP : SERIAL_HELP);
    return 0;
  }
  const paths = kind === 'serial' ? list(v, 'serial') : [];
  if (kind === 'serial' && paths.length === 0) {
    throw usageError('give the serial line of each device: --serial PATH[,PATH...]');
  }
  if (kind === 'serial' && v.devices === undefined && v.fleet === undefined) {
    v.devices = String(paths.length);
  }
  const config = fleetConfig(v);
  const specs = buildDevices(config);
  let transport: Transport;
  if (kind === 'serial') {
    if (specs.length !== paths.length) {
      throw usageError(
        `${specs.length} devices but ${paths.length} serial lines: give one line per device`,
      );
    }
    const id = str(v, 'device');
    if (id !== undefined) {
      if (specs.length !== 1)
        throw usageError('--device names a single device; give one --serial path');
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
        throw usageError(`--device: ${JSON.stringify(id)} is not 1..64 of [A-Za-z0-9._-]`);
      (specs[0] as { id: string }).id = id;
    }
    transport = serialTransport(
      v,
      new Map(specs.map((s, i) => [s.id, paths[i] as string])),
      config.seed,
    );
  } else {
    transport = mqttTransport(v, io.env);
  }
  return runDevices(kind, v, io, config, specs, transport, {
    defaultWindow: kind === 'serial' ? Math.min(32, maxKept(v) - 2) : undefined,
  });
}

/** Simulated devices of `specs` through `transport` until done: the summary, the exit code. */
export async function runDevices(
  command: string,
  v: Values,
  io: CliIo,
  config: FleetConfig,
  specs: readonly DeviceSpec[],
  transport: Transport,
  extra: { defaultWindow?: number | undefined; start?: number } = {},
): Promise<number> {
  const start = extra.start ?? config.start ?? Date.now();
  const labelsPath = str(v, 'labels');
  const labels = labelsPath ? new LabelFile(labelsPath) : undefined;
  const devices = specs.map(
    (spec) =>
      new SimDevice(spec, {
        seed: config.seed,
        start,
        anomalies: config.anomalies,
        behaviours: config.behaviours,
        onLabel: labels ? (l) => labels.add(l) : undefined,
      }),
  );
  return execute(
    {
      command,
      sources: devices,
      transport,
      clock: clockFor(v, start),
      seed: config.seed,
      labels,
      defaultWindow: extra.defaultWindow,
      extra: () => ({
        start,
        reboots: devices.reduce((a, d) => a + d.reboots, 0),
        silences: devices.reduce((a, d) => a + d.silences, 0),
      }),
    },
    v,
    io,
  );
}
