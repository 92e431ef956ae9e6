import { parseArgs } from 'node:util';
// Only light imports up here: --help and --version answer without loading the app.
import { runCli, type StartControl, type Stoppable } from '@iot-stream/contracts/cli';
import { HUB_ENV_KEYS } from './env-keys.ts';
import { HUB_VERSION } from './version.ts';

const HELP = `iot-hub: consumes readings from Kafka, writes them to InfluxDB, answers REST queries.

Usage: iot-hub [--config FILE] [options]
       iot-hub backtest [--detector NAME | --rules FILE] < series.csv > scored.csv
                        score a recorded series with the live detectors (see --help there)
       iot-hub evaluate [--detector NAME | --rules FILE] < labelled.csv
                        incidents caught, how early, false alerts per 1,000 readings

Options:
  -c, --config FILE     YAML configuration file (see README.md, "Hub configuration");
                        an unknown key in it is refused (exit 2), never ignored
      --brokers LIST    Kafka brokers, comma-separated          (kafka.brokers)
      --topic NAME      Kafka topic with readings               (kafka.topic)
      --group ID        Kafka consumer group                    (kafka.groupId)
      --influx URL      InfluxDB 1.x URL                        (influx.url)
      --database NAME   InfluxDB database                       (influx.database)
      --http-port N     REST API port, 0 = any free port        (http.port)
      --print-config    print the effective configuration (secrets redacted) and exit
  -h, --help            show this help
  -v, --version         show the version

Environment overrides: ${Object.keys(HUB_ENV_KEYS).join(', ')}.
Each may also be given as NAME_FILE, the path of a file holding the value (for secrets:
systemd credentials, Docker secrets). Lists (KAFKA_BROKERS) are comma-separated.
Precedence: flags > environment > config file > defaults. Stops cleanly on SIGINT/SIGTERM.
Exit codes: 0 stopped cleanly, 1 failed, 2 usage or configuration error.
`;

async function run(argv: string[], start: StartControl): Promise<Stoppable | undefined> {
  if (argv[0] === 'backtest') {
    const { backtestCommand } = await import('./backtest/command.ts');
    process.exitCode = await backtestCommand(argv.slice(1), process);
    return;
  }
  if (argv[0] === 'evaluate') {
    const { evaluateCommand } = await import('./backtest/evaluate-command.ts');
    process.exitCode = await evaluateCommand(argv.slice(1), process);
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
  if (values.version) return void process.stdout.write(`iot-hub ${HUB_VERSION}\n`);
  const { printableConfig } = await import('@iot-stream/contracts');
  const { HubConfigSchema, loadHubConfig } = await import('./config.ts');
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
  if (values['print-config'])
    return void process.stdout.write(printableConfig(HubConfigSchema, config));
  // Before the app is loaded, so its start-up allocations already see the factor.
  const { setHeapGrowing } = await import('./ops/heap.ts');
  setHeapGrowing(config.memory.heapGrowingPercent);
  // Loaded only now: --print-config never loads the app.
  const { startHub } = await import('./main.ts');
  start.holdSignals(); // a SIGTERM while InfluxDB or Kafka is awaited ends the waiting
  return startHub(config, undefined, {}, start.signal);
}

runCli({ name: 'iot-hub', run });
