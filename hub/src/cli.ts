import { parseArgs } from 'node:util';
import { IotError } from '@iot-stream/contracts';
import { HUB_ENV_KEYS, loadHubConfig } from './config.ts';
import { startHub } from './main.ts';

const HELP = `iot-hub: consumes readings from Kafka, writes them to InfluxDB, answers REST queries.

Usage: iot-hub [--config FILE] [options]
       iot-hub backtest (--detector NAME | --rules FILE) < series.csv > scored.csv
                        score a recorded series with the live detectors (see --help there)

Options:
  -c, --config FILE     YAML configuration file (see README.md, "Hub configuration")
      --brokers LIST    Kafka brokers, comma-separated          (kafka.brokers)
      --topic NAME      Kafka topic with readings               (kafka.topic)
      --group ID        Kafka consumer group                    (kafka.groupId)
      --influx URL      InfluxDB 1.x URL                        (influx.url)
      --database NAME   InfluxDB database                       (influx.database)
      --http-port N     REST API port, 0 = any free port        (http.port)
      --print-config    print the effective configuration and exit
  -h, --help            show this help
  -v, --version         show the version

Environment overrides: ${Object.keys(HUB_ENV_KEYS).join(', ')}.
Precedence: flags > environment > config file > defaults. Stops cleanly on SIGINT/SIGTERM.
`;

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'backtest') {
    const { backtestCommand } = await import('./backtest/command.ts');
    process.exitCode = await backtestCommand(argv.slice(1), process);
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      brokers: { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      influx: { type: 'string' },
      database: { type: 'string' },
      'http-port': { type: 'string' },
      'print-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write('iot-hub 0.1.0\n');
  const config = loadHubConfig({
    file: values.config,
    env: process.env,
    overrides: {
      'kafka.brokers': values.brokers?.split(','),
      'kafka.topic': values.topic,
      'kafka.groupId': values.group,
      'influx.url': values.influx,
      'influx.database': values.database,
      'http.port': values['http-port'],
    },
  });
  if (values['print-config']) {
    const shown = {
      ...config,
      influx: { ...config.influx, password: config.influx.password ? '***' : undefined },
    };
    return void process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  }
  const hub = await startHub(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`iot-hub: ${signal}, shutting down\n`);
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof IotError ? ` [${err.code}]` : '';
  process.stderr.write(`iot-hub: ${(err as Error).message}${code}\n`);
  process.exit(err instanceof IotError && err.code === 'CONFIG_INVALID' ? 2 : 1);
});
