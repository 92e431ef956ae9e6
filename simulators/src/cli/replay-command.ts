import { parseArgs } from 'node:util';
import { LabelFile } from '../anomalies/labels.ts';
import { usageError } from '../errors.ts';
import type { Transport } from '../ports.ts';
import { CsvReplaySource } from '../replay/replay-source.ts';
import {
  anomalies,
  clockFor,
  int,
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
import { REPLAY_HELP } from './help.ts';
import type { CliIo } from './io.ts';

const REPLAY_OPTIONS = {
  csv: { type: 'string' },
  metric: { type: 'string' },
  unit: { type: 'string' },
  scale: { type: 'string' },
  retime: { type: 'boolean' },
} as const;

/** `iot-sim replay`: a CSV file as one device. */
export async function replayCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ...OUTPUT_OPTIONS,
      ...RUN_OPTIONS,
      ...MQTT_OPTIONS,
      ...SERIAL_OPTIONS,
      ...REPLAY_OPTIONS,
    },
    strict: true,
  }) as { values: Values };
  if (v.help) {
    io.stdout.write(REPLAY_HELP);
    return 0;
  }
  const path = str(v, 'csv');
  const deviceId = str(v, 'device');
  if (!path || !deviceId) throw usageError('replay needs --csv FILE and --device ID');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId)) {
    throw usageError(`--device: ${JSON.stringify(deviceId)} is not 1..64 of [A-Za-z0-9._-]`);
  }
  const seed = int(v, 'seed') ?? 1;
  const labelsPath = str(v, 'labels');
  const labels = labelsPath ? new LabelFile(labelsPath) : undefined;
  const source = await CsvReplaySource.open({
    path,
    deviceId,
    metric: str(v, 'metric'),
    units: perMetric(str(v, 'unit'), '--unit', (s) => s),
    scales: perMetric(str(v, 'scale'), '--scale', scaleOf),
    retimeTo: v.retime ? Date.now() : undefined,
    seed,
    anomalies: anomalies(v),
    onLabel: labels ? (l) => labels.add(l) : undefined,
    onMalformed: (line, reason) =>
      io.stderr.write(`iot-sim replay: ${path}:${line}: ${reason} (skipped)\n`),
  });
  const serialPaths = list(v, 'serial');
  if (serialPaths.length > 1) throw usageError('replay is one device: give one --serial path');
  let transport: Transport;
  if (serialPaths.length === 1) {
    transport = serialTransport(v, new Map([[deviceId, serialPaths[0] as string]]), seed);
  } else transport = mqttTransport(v, io.env);
  return execute(
    {
      command: 'replay',
      sources: [source],
      transport,
      clock: clockFor(v, source.start ?? Date.now()),
      seed,
      labels,
      defaultWindow: serialPaths.length === 1 ? Math.min(32, maxKept(v) - 2) : undefined,
      extra: () => ({ file: path, ...source.counters }),
    },
    v,
    io,
  );
}

/** `X` for every metric, or `name=X,name=X`. */
function perMetric<T>(
  text: string | undefined,
  flag: string,
  convert: (s: string, flag: string) => T,
): Record<string, T> {
  if (text === undefined) return {};
  if (!text.includes('=')) return { '*': convert(text.trim(), flag) };
  const out: Record<string, T> = {};
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw usageError(`${flag}: expected NAME=VALUE, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq).trim()] = convert(pair.slice(eq + 1).trim(), flag);
  }
  return out;
}

function scaleOf(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < -12 || n > 12) {
    throw usageError(`${flag}: a scale is an integer -12..12, got ${JSON.stringify(text)}`);
  }
  return n;
}
