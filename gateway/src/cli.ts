import { parseArgs } from 'node:util';
// Only light imports up here: --help and --version answer without loading the app.
import { runCli, type StartControl, type Stoppable } from '@iot-stream/contracts/cli';
import { GATEWAY_ENV_KEYS } from './env-keys.ts';
import { GATEWAY_VERSION } from './version.ts';

const HELP = `iot-gateway: receives sensor readings (MQTT, serial), stores them durably, forwards them
to Kafka (or to the hub over HTTP).

Usage: iot-gateway [--config FILE] [options]
       iot-gateway hash-password      reads a device password on stdin, prints its hash
                                      for the devices file (mqtt.devicesFile)

Options:
  -c, --config FILE     YAML configuration file (see README.md, "Gateway configuration");
                        an unknown key in it is refused (exit 2), never ignored
      --gateway-id ID   this gateway's unique id                  (gatewayId)
      --mqtt-port N     MQTT listener port, 0 = any free port     (mqtt.port)
      --outbox PATH     SQLite outbox file                        (outbox.path)
      --brokers LIST    Kafka brokers, comma-separated             (kafka.brokers)
      --topic NAME      Kafka topic for readings                  (kafka.topic)
      --http-port N     health endpoint port, 0 = any free port   (http.port)
      --print-config    print the effective configuration (secrets redacted) and exit
  -h, --help            show this help
  -v, --version         show the version

Environment overrides: ${Object.keys(GATEWAY_ENV_KEYS).join(', ')}.
Each may also be given as NAME_FILE, the path of a file holding the value (for secrets:
systemd credentials, Docker secrets). Lists (KAFKA_BROKERS) are comma-separated.
Precedence: flags > environment > config file > defaults. Stops cleanly on SIGINT/SIGTERM.
Exit codes: 0 stopped cleanly, 1 failed, 2 usage or configuration error.
`;

async function hashPasswordCommand(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const password = input.replace(/\r?\n$/, '');
  const { ConfigError } = await import('@iot-stream/contracts');
  if (password.length < 8)
    throw new ConfigError('hash-password: the password must have at least 8 characters');
  const { hashPassword } = await import('./sources/mqtt/auth.ts');
  process.stdout.write(`${await hashPassword(password)}\n`);
}

async function run(argv: string[], start: StartControl): Promise<Stoppable | undefined> {
  if (argv[0] === 'hash-password') return void (await hashPasswordCommand());
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'gateway-id': { type: 'string' },
      'mqtt-port': { type: 'string' },
      outbox: { type: 'string' },
      brokers: { type: 'string' },
      topic: { type: 'string' },
      'http-port': { type: 'string' },
      'print-config': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write(`iot-gateway ${GATEWAY_VERSION}\n`);
  const { printableConfig } = await import('@iot-stream/contracts');
  const { GatewayConfigSchema, loadGatewayConfig } = await import('./config.ts');
  const config = loadGatewayConfig({
    file: values.config,
    env: process.env,
    overrides: {
      gatewayId: values['gateway-id'],
      'mqtt.port': values['mqtt-port'],
      'outbox.path': values.outbox,
      'kafka.brokers': values.brokers?.split(','),
      'kafka.topic': values.topic,
      'http.port': values['http-port'],
    },
  });
  if (values['print-config'])
    return void process.stdout.write(printableConfig(GatewayConfigSchema, config));
  // Loaded only now: --print-config never loads the app.
  const { startGateway } = await import('./main.ts');
  start.holdSignals(); // a signal while it starts stops it once started, not by killing it
  return startGateway(config);
}

runCli({ name: 'iot-gateway', run });
