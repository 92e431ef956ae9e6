/**
 * Real Kafka + InfluxDB for local development, kept running between test runs:
 *   npm run services -- up | status | down
 * `up` prints KAFKA_BROKERS= and INFLUX_URL=; with both exported, vitest's global setup uses
 * these servers instead of starting its own.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { down, status, up } from './cli-commands.ts';
import { DEFAULT_STATE_DIR } from './cli-state.ts';
import { errorMessage, HarnessError } from './errors.ts';

const STATE_DIR_HELP = `  --state-dir <dir>   where state.json lives (default: ${DEFAULT_STATE_DIR})`;

const HELP: Record<string, string> = {
  main: `Usage: npm run services -- <command> [options]

Runs real Apache Kafka 3.9.1 (KRaft) and InfluxDB 1.x on loopback, detached from the shell.

Commands:
  up       start the services (or reprint their addresses if already up)
  status   show each server's pid, address and whether it answers
  down     stop the services and delete their data

Run \`npm run services -- <command> --help\` for a command's options.`,
  up: `Usage: npm run services -- up [--kafka-nodes 1|3] [--no-kafka] [--no-influx]

Starts the services detached (they keep running after this command exits), records them in
state.json and prints to stdout:
  KAFKA_BROKERS=127.0.0.1:<port>[,...]
  INFLUX_URL=http://127.0.0.1:<port>
Progress goes to stderr. If the services are already up, only reprints those lines.
npm prints its own banner to stdout; for a shell use -s:
  export $(npm run -s services -- up)   # then vitest uses these servers

Options:
  --kafka-nodes <n>   1 (default) or 3 (replicated, min.insync.replicas=2)
  --no-kafka          do not start Kafka
  --no-influx         do not start InfluxDB
${STATE_DIR_HELP}`,
  status: `Usage: npm run services -- status

Prints each server with pid, address and whether it answers (Kafka: describeCluster;
InfluxDB: /ping). Exits 1 if anything is down or nothing is up.

Options:
${STATE_DIR_HELP}`,
  down: `Usage: npm run services -- down

Stops the servers (SIGTERM, up to 15 s, then SIGKILL), removes state.json and their data dir.

Options:
${STATE_DIR_HELP}`,
};

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  'state-dir': { type: 'string' },
} satisfies ParseArgsConfig['options'];

const UP = {
  ...COMMON,
  'kafka-nodes': { type: 'string' },
  'no-kafka': { type: 'boolean' },
  'no-influx': { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

function usage(message: string): never {
  throw new HarnessError('CLI_USAGE', `${message}\nRun \`npm run services -- --help\` for usage.`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(`${HELP.main}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'up' && command !== 'down' && command !== 'status') {
    usage(`unknown command: ${command}`);
  }
  let values: {
    help?: boolean;
    'state-dir'?: string;
    'kafka-nodes'?: string;
    'no-kafka'?: boolean;
    'no-influx'?: boolean;
  };
  try {
    ({ values } = parseArgs({ args: rest, options: command === 'up' ? UP : COMMON, strict: true }));
  } catch (err) {
    usage(errorMessage(err));
  }
  if (values.help) {
    process.stdout.write(`${HELP[command]}\n`);
    return 0;
  }
  const stateDir = values['state-dir'] ?? DEFAULT_STATE_DIR;
  if (command === 'down') return down(stateDir);
  if (command === 'status') return status(stateDir);

  const nodes = values['kafka-nodes'] ?? '1';
  if (nodes !== '1' && nodes !== '3') usage(`--kafka-nodes must be 1 or 3, got ${nodes}`);
  const kafka = !values['no-kafka'];
  const influx = !values['no-influx'];
  if (!kafka && !influx) usage('--no-kafka and --no-influx together leave nothing to start');
  return up({ stateDir, kafkaNodes: nodes === '3' ? 3 : 1, kafka, influx });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${errorMessage(err)}\n`);
    process.exitCode = err instanceof HarnessError && err.code === 'CLI_USAGE' ? 2 : 1;
  },
);
