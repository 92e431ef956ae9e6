import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { LabelFile } from '../anomalies/labels.ts';
import type { Label } from '../anomalies/types.ts';
import { fastClock } from '../clock.ts';
import { SimDevice } from '../device.ts';
import { usageError } from '../errors.ts';
import { buildDevices } from '../fleet-config.ts';
import { type FileFormat, FileTransport } from '../transports/file-transport.ts';
import {
  FLEET_OPTIONS,
  fleetConfig,
  list,
  OUTPUT_OPTIONS,
  RUN_OPTIONS,
  str,
  type Values,
} from './args.ts';
import { execute } from './execute.ts';
import { GENERATE_HELP } from './help.ts';
import type { CliIo } from './io.ts';

const GENERATE_OPTIONS = {
  out: { type: 'string' },
  format: { type: 'string' },
  metric: { type: 'string' },
} as const;

/**
 * `iot-sim generate`: the fleet's readings as fast as possible into a file (or stdout), with
 * the anomaly covering each reading in the CSV's `truth` column: a data set with ground
 * truth, e.g. for `iot-hub backtest`. The summary goes to stderr when the data goes to stdout.
 */
export async function generateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: { ...OUTPUT_OPTIONS, ...RUN_OPTIONS, ...FLEET_OPTIONS, ...GENERATE_OPTIONS },
    strict: true,
  }) as { values: Values };
  if (v.help) {
    io.stdout.write(GENERATE_HELP);
    return 0;
  }
  const format = (str(v, 'format') ?? 'csv') as FileFormat;
  if (format !== 'csv' && format !== 'jsonl') {
    throw usageError(`--format must be csv or jsonl, got ${JSON.stringify(format)}`);
  }
  if (v.count === undefined && v.duration === undefined) {
    throw usageError('generate needs a bound: --count N or --duration D');
  }
  const config = fleetConfig(v);
  const specs = buildDevices(config);
  const start = config.start ?? Date.now();
  const path = str(v, 'out');
  const out = path ? createWriteStream(path) : io.stdout;
  const labelsPath = str(v, 'labels');
  const labels = labelsPath ? new LabelFile(labelsPath) : undefined;
  const open = new Map<string, Label[]>();
  const onLabel = (l: Label) => {
    labels?.add(l);
    const key = `${l.device}\n${l.metric}`;
    open.set(key, [...(open.get(key) ?? []), l]);
  };
  const truth = (device: string, metric: string, time: number) => {
    const key = `${device}\n${metric}`;
    const windows = (open.get(key) ?? []).filter((l) => l.end > time);
    open.set(key, windows);
    return windows
      .filter((l) => l.start <= time)
      .map((l) => l.type)
      .join('|');
  };
  const devices = specs.map(
    (spec) =>
      new SimDevice(spec, {
        seed: config.seed,
        start,
        anomalies: config.anomalies,
        behaviours: config.behaviours,
        onLabel,
      }),
  );
  const transport = new FileTransport({ out, format, metrics: list(v, 'metric'), truth });
  const summaryIo = path ? io : { ...io, stdout: io.stderr };
  const code = await execute(
    {
      command: 'generate',
      sources: devices,
      transport,
      clock: fastClock(start),
      seed: config.seed,
      labels,
      extra: () => ({ start, file: path ?? '-' }),
    },
    v,
    summaryIo,
  );
  if (path) {
    out.end();
    await once(out, 'finish');
  }
  return code;
}
