// `npm start`: the whole system on one machine. Uses KAFKA_BROKERS / INFLUX_URL when set,
// otherwise starts Kafka and InfluxDB through the test harness; then a hub, a gateway and a
// small simulated fleet. Prints where to look; Ctrl-C stops everything cleanly.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServices } from '../test/harness/services.ts';
import { type AppProcess, BINS, type LogLine, REPO_ROOT, spawnApp } from './lib/app-process.ts';

const HELP = `npm start [-- options]: run hub, gateway and a simulated fleet on this machine.

Options:
  --devices N     simulated devices (default 5)
  --interval MS   milliseconds between readings of one device (default 1000)
  --data DIR      where the gateway's outbox and the logs go (default ./.data)
  -h, --help      show this help

Uses the Kafka and InfluxDB named by KAFKA_BROKERS and INFLUX_URL when both are set; otherwise
starts them itself (Kafka 3.9.1 from Maven Central jars, InfluxDB 1.x from Debian's package).
`;

const say = (text: string) => process.stdout.write(`${text}\n`);

async function portOr0(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(0));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(preferred)));
  });
}

/** Child log lines at warn or above reach the terminal, prefixed with the app's name. */
function relay(name: string) {
  return {
    onLine: (l: LogLine) => {
      if ((l.level ?? 30) >= 40)
        say(
          `[${name}] ${String(l.msg)}${l.err ? `: ${JSON.stringify((l.err as { message?: string }).message)}` : ''}`,
        );
    },
    onText: (t: string) => say(`[${name}] ${t}`),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '5' },
      interval: { type: 'string', default: '1000' },
      data: { type: 'string', default: join(REPO_ROOT, '.data') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const logs = join(values.data, 'logs');
  mkdirSync(logs, { recursive: true });

  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  let brokers = process.env.KAFKA_BROKERS;
  let influxUrl = process.env.INFLUX_URL;
  if (brokers && influxUrl) {
    say(`Using KAFKA_BROKERS=${brokers} and INFLUX_URL=${influxUrl}`);
  } else {
    say('Starting Kafka and InfluxDB (first run fetches Kafka from Maven Central)...');
    services = await startServices({ log: (m) => say(`  ${m}`) });
    brokers = services.kafkaBrokers.join(',');
    influxUrl = services.influxUrl;
  }

  const apps: AppProcess[] = [];
  let stopping = false;
  const stopAll = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${reason}: stopping the simulator, gateway, hub${services ? ' and services' : ''}...`);
    for (const app of [...apps].reverse()) {
      const code = await app.stop('SIGTERM');
      say(`  ${app.name} stopped (exit ${code})`);
    }
    await services?.stop();
    say('All stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('Ctrl-C'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  const [hubPort, gatewayPort, mqttPort] = await Promise.all([
    portOr0(8080),
    portOr0(8081),
    portOr0(1883),
  ]);
  const hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    env: { KAFKA_BROKERS: brokers, INFLUX_URL: influxUrl, HUB_HTTP_PORT: String(hubPort) },
    logFile: join(logs, 'hub.log'),
    ...relay('hub'),
  });
  apps.push(hub);
  const gateway = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    env: {
      KAFKA_BROKERS: brokers,
      MQTT_PORT: String(mqttPort),
      GATEWAY_HTTP_PORT: String(gatewayPort),
      OUTBOX_PATH: join(values.data, 'outbox.sqlite'),
    },
    logFile: join(logs, 'gateway.log'),
    ...relay('gateway'),
  });
  apps.push(gateway);
  const hubUrl = String((await hub.waitFor((l) => l.msg === 'REST API listening', 120_000)).url);
  const mqtt = Number((await gateway.waitFor((l) => l.msg === 'MQTT broker listening')).port);
  const gatewayUrl = String(
    (await gateway.waitFor((l) => l.msg === 'health endpoint listening')).url,
  );
  const sim = spawnApp({
    name: 'simulator',
    bin: BINS.sim,
    args: [
      'mqtt',
      '--url',
      `mqtt://127.0.0.1:${mqtt}`,
      '--devices',
      values.devices,
      '--interval',
      values.interval,
      '--quiet',
    ],
    logFile: join(logs, 'simulator.log'),
    ...relay('simulator'),
  });
  apps.push(sim);

  const example = `${hubUrl}/api/devices/sim-001/readings`;
  say(`
iot-stream is running.
  Hub REST API      ${hubUrl}/api/health
  Readings          curl '${example}'
                    curl '${example}?from=${new Date(Date.now() - 600_000).toISOString()}&limit=5'
  Gateway health    ${gatewayUrl}
  MQTT (devices)    mqtt://127.0.0.1:${mqtt}   topic iot/v1/<deviceId>/data
  Kafka             ${brokers}
  InfluxDB          ${influxUrl}   database iot, measurement readings
  Logs              ${logs}
Press Ctrl-C to stop.
`);

  // Show that readings flow: poll the REST query above until it returns data.
  for (let i = 0; i < 60 && !stopping; i += 1) {
    await new Promise((r) => setTimeout(r, 1000));
    const res = await fetch(example).catch(() => undefined);
    const body = (await res?.json().catch(() => undefined)) as { count?: number } | undefined;
    if (body?.count) {
      say(
        `Readings are flowing: ${body.count} readings of sim-001 in the last hour (and counting).`,
      );
      break;
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start: ${(err as Error).message}\n`);
  process.exit(1);
});
