import { parseArgs } from 'node:util';
import { ConfigError, IotError } from '@iot-stream/contracts';
import { GATEWAY_ENV_KEYS, loadGatewayConfig } from './config.ts';
import { startGateway } from './main.ts';
import { hashPassword } from './mqtt-auth.ts';

const HELP = `iot-gateway: receives sensor readings (MQTT), stores them durably, forwards them to Kafka.

Usage: iot-gateway [--config FILE] [options]
       iot-gateway hash-password      reads a device password on stdin, prints its hash
                                      for the devices file (mqtt.devicesFile)

Options:
  -c, --config FILE     YAML configuration file (see README.md, "Gateway configuration")
      --gateway-id ID   this gateway's unique id                  (gatewayId)
      --mqtt-port N     MQTT listener port, 0 = any free port     (mqtt.port)
      --outbox PATH     SQLite outbox file                        (outbox.path)
      --brokers LIST    Kafka brokers, comma-separated             (kafka.brokers)
      --topic NAME      Kafka topic for readings                  (kafka.topic)
      --http-port N     health endpoint port, 0 = any free port   (http.port)
      --print-config    print the effective configuration and exit
  -h, --help            show this help
  -v, --version         show the version

Environment overrides: ${Object.keys(GATEWAY_ENV_KEYS).join(', ')}.
Precedence: flags > environment > config file > defaults. Stops cleanly on SIGINT/SIGTERM.
`;

async function hashPasswordCommand(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const password = input.replace(/\r?\n$/, '');
  if (password.length < 8)
    throw new ConfigError('hash-password: the password must have at least 8 characters');
  process.stdout.write(`${hashPassword(password)}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hash-password') return hashPasswordCommand();
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
  if (values.version) return void process.stdout.write('iot-gateway 0.1.0\n');
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
    return void process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  const gateway = await startGateway(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`iot-gateway: ${signal}, shutting down\n`);
    gateway.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const code = err instanceof IotError ? ` [${err.code}]` : '';
  process.stderr.write(`iot-gateway: ${(err as Error).message}${code}\n`);
  process.exit(err instanceof IotError && err.code === 'CONFIG_INVALID' ? 2 : 1);
});
