// `npm start`: the whole system on one machine. Single-box mode (no services: the gateway
// forwards to the hub over HTTP, the hub keeps everything in SQLite) unless KAFKA_BROKERS /
// INFLUX_URL are set (then against those) or --services starts Kafka and InfluxDB through the
// test harness; then a hub, a gateway and a simulated fleet with a few injected anomalies.
// Prints where to look; Ctrl-C stops everything cleanly.
import { randomBytes } from 'node:crypto';
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
  --data DIR      where the outbox, the hub's data and the logs go (default ./.data)
  --services      start Kafka and InfluxDB here (Kafka 3.9.1 from Maven Central jars, InfluxDB
                  1.x from Debian's package) and run the scale-out path against them
  -h, --help      show this help

Without --services, single-box mode: nothing to install; the gateway forwards to the hub over
HTTP and the hub stores readings, aggregates and anomalies in SQLite. KAFKA_BROKERS and
INFLUX_URL, when set, are used instead (each on its own: Kafka with the SQLite store, or
single-box ingest with InfluxDB).
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
      services: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const logs = join(values.data, 'logs');
  mkdirSync(logs, { recursive: true });

  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  let brokers = process.env.KAFKA_BROKERS || undefined;
  let influxUrl = process.env.INFLUX_URL || undefined;
  if (values.services && !(brokers && influxUrl)) {
    say('Starting Kafka and InfluxDB (first run fetches Kafka from Maven Central)...');
    services = await startServices({ log: (m) => say(`  ${m}`) });
    brokers = services.kafkaBrokers.join(',');
    influxUrl = services.influxUrl;
  }
  say(
    brokers || influxUrl
      ? `Using ${brokers ? `Kafka ${brokers}` : 'HTTP ingest (no Kafka)'} and ${influxUrl ? `InfluxDB ${influxUrl}` : 'the SQLite store (no InfluxDB)'}`
      : 'Single-box mode: no Kafka, no InfluxDB (the hub keeps everything in SQLite).',
  );

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
  const token = randomBytes(16).toString('hex');
  const hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    env: {
      ...(brokers ? { KAFKA_BROKERS: brokers } : {}),
      ...(influxUrl ? { INFLUX_URL: influxUrl } : {}),
      HUB_HTTP_PORT: String(hubPort),
      HUB_DATA_DIR: join(values.data, 'hub'),
      HUB_RULES_FILE: join(REPO_ROOT, 'hub', 'rules.example.yaml'),
      HUB_API_TOKEN: token,
    },
    logFile: join(logs, 'hub.log'),
    ...relay('hub'),
  });
  apps.push(hub);
  const hubUrl = String((await hub.waitFor((l) => l.msg === 'REST API listening', 120_000)).url);
  const gateway = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    env: {
      ...(brokers ? { KAFKA_BROKERS: brokers } : { HUB_URL: hubUrl, HUB_TOKEN: token }),
      MQTT_PORT: String(mqttPort),
      GATEWAY_HTTP_PORT: String(gatewayPort),
      OUTBOX_PATH: join(values.data, 'outbox.sqlite'),
    },
    logFile: join(logs, 'gateway.log'),
    ...relay('gateway'),
  });
  apps.push(gateway);
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
      '--anomalies',
      'spike:metrics=temperature,every=20s,magnitude=8;stuck:every=3m,duration=1m',
      '--quiet',
    ],
    logFile: join(logs, 'simulator.log'),
    ...relay('simulator'),
  });
  apps.push(sim);

  const example = `${hubUrl}/api/devices/sim-001/readings`;
  const auth = `-H 'Authorization: Bearer ${token}'`;
  say(`
iot-stream is running.
  Dashboard         ${hubUrl}/dashboard/   (API token: ${token})
  Hub REST API      ${hubUrl}/api/health   (OpenAPI: ${hubUrl}/docs)
  Readings          curl ${auth} '${example}'
  Gateway health    ${gatewayUrl}
  MQTT (devices)    mqtt://127.0.0.1:${mqtt}   topic iot/v1/<deviceId>/data
  Kafka             ${brokers ?? 'none (single-box: the gateway POSTs to the hub)'}
  InfluxDB          ${influxUrl ? `${influxUrl}   database iot` : `none (SQLite in ${join(values.data, 'hub')})`}
  Logs              ${logs}
Press Ctrl-C to stop.
`);

  // Show that readings flow: poll the REST query above until it returns data.
  for (let i = 0; i < 60 && !stopping; i += 1) {
    await new Promise((r) => setTimeout(r, 1000));
    const res = await fetch(example, { headers: { authorization: `Bearer ${token}` } }).catch(
      () => undefined,
    );
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
