import { parseArgs } from 'node:util';
import { type FleetSummary, runMqttFleet } from './mqtt-fleet.ts';

const HELP = `iot-sim: a virtual sensor fleet for demos, tests and load.

Usage: iot-sim mqtt [options]

Commands:
  mqtt                  publish readings over MQTT (the protocol's JSON form, QoS 1)

Options:
      --url URL         MQTT broker URL                      (default mqtt://127.0.0.1:1883)
      --devices N       number of virtual devices            (default 3)
      --interval MS     milliseconds between readings of one device (default 1000)
      --count N         readings per device, then stop        (default: unbounded)
      --duration S      stop after S seconds                  (default: unbounded)
      --seed N          seed for a reproducible fleet         (default 1)
      --prefix TEXT     device id prefix                      (default sim-)
      --quiet           no progress lines
  -h, --help            show this help

Progress goes to stderr once a second; a JSON summary (sent, acknowledged, failed) goes to
stdout at the end. Ctrl-C stops publishing, waits for outstanding acknowledgements and prints
the summary. Exit code 1 when any publish failed.
`;

function intOption(name: string, value: string | undefined, fallback: number | undefined, min = 0) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(
      `iot-sim: --${name} must be an integer >= ${min}, got ${JSON.stringify(value)}\n`,
    );
    process.exit(2);
  }
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      devices: { type: 'string' },
      interval: { type: 'string' },
      count: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      prefix: { type: 'string', default: 'sim-' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    if (command === undefined && !values.help) process.exitCode = 2;
    return;
  }
  if (command !== 'mqtt') {
    process.stderr.write(
      `iot-sim: unknown command ${JSON.stringify(command)}; see iot-sim --help\n`,
    );
    process.exit(2);
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const duration = intOption('duration', values.duration, undefined, 1);
  const summary = await runMqttFleet({
    url: values.url,
    devices: intOption('devices', values.devices, 3, 1) as number,
    intervalMs: intOption('interval', values.interval, 1000) as number,
    count: intOption('count', values.count, undefined, 1),
    durationMs: duration === undefined ? undefined : duration * 1000,
    seed: intOption('seed', values.seed, 1) as number,
    prefix: values.prefix,
    signal: abort.signal,
    onProgress: values.quiet ? undefined : progressLine,
  });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.failed > 0) process.exitCode = 1;
}

function progressLine(s: FleetSummary): void {
  const rate = s.elapsedMs > 0 ? Math.round((s.acknowledged * 1000) / s.elapsedMs) : 0;
  process.stderr.write(
    `iot-sim: ${Math.round(s.elapsedMs / 1000)}s sent=${s.sent} acknowledged=${s.acknowledged} failed=${s.failed} rate=${rate}/s\n`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`iot-sim: ${(err as Error).message}\n`);
  process.exit(1);
});
