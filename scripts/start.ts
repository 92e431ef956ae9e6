// `npm start`: the whole system on one machine. Single-box mode (no services: the gateway
// forwards to the hub over HTTP, the hub keeps everything in SQLite) unless KAFKA_BROKERS /
// INFLUX_URL are set (then against those) or --services starts Kafka and InfluxDB through the
// test harness; then a hub, a gateway and a simulated fleet with a few injected anomalies.
// Prints where to look, with a dashboard link that signs in; Ctrl-C stops everything cleanly.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AppProcess, BINS, type LogLine, REPO_ROOT, spawnApp } from './lib/app-process.ts';
import { exitCodeOf, StartError } from './lib/errors.ts';
import {
  choosePorts,
  listenProbe,
  type PortChoice,
  type PortRequest,
  parsePort,
  pickedNote,
} from './lib/ports.ts';
import { exampleReadingsUrl, runningBanner } from './lib/start-banner.ts';
import { startServices } from './services/services.ts';

const HELP = `npm start [-- options]: run hub, gateway and a simulated fleet on this machine.

Options:
  --devices N          simulated devices (default 5)
  --interval MS        milliseconds between readings of one device (default 1000)
  --data DIR           where the outbox, the hub's data and the logs go (default ./.data)
  --port N             the hub's port: dashboard and REST API (default 8080)
  --gateway-port N     the gateway's health endpoint (default 8081)
  --mqtt-port N        the gateway's MQTT broker, where devices publish (default 1883)
  --services           start Kafka and InfluxDB here (Kafka 3.9.1 from Maven Central jars,
                       InfluxDB 1.x from Debian's package) and run the scale-out path on them
  -h, --help           show this help

Ports: a port given with an option must be free, or nothing starts (exit 2); 0 means any free
port. Without the option, a default port that is taken is replaced by a free one, and the
output says so. What is printed (dashboard link, curl example, MQTT URL) uses the actual ports.

Without --services, single-box mode: nothing to install; the gateway forwards to the hub over
HTTP and the hub stores readings, aggregates and anomalies in SQLite. KAFKA_BROKERS and
INFLUX_URL, when set, are used instead (each on its own: Kafka with the SQLite store, or
single-box ingest with InfluxDB).
`;

const say = (text: string) => process.stdout.write(`${text}\n`);

/** What runs, so that Ctrl-C or a failed start stops it. */
const running: {
  apps: AppProcess[];
  services?: Awaited<ReturnType<typeof startServices>>;
  stopping: boolean;
} = { apps: [], stopping: false };

async function stopEverything(): Promise<void> {
  for (const app of [...running.apps].reverse()) {
    const code = await app.stop('SIGTERM');
    say(`  ${app.name} stopped (exit ${code})`);
  }
  await running.services?.stop();
}

async function stopAll(reason: string): Promise<void> {
  if (running.stopping) return;
  running.stopping = true;
  const what = running.services
    ? 'simulator, gateway, hub and services'
    : 'simulator, gateway, hub';
  say(`\n${reason}: stopping the ${what}...`);
  await stopEverything();
  say('All stopped.');
  process.exit(0);
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

/** The app's log line that says it is ready; a failure names the ports it was given. */
async function ready(
  app: AppProcess,
  msg: string,
  ports: PortChoice[],
  timeoutMs?: number,
): Promise<LogLine> {
  try {
    return await app.waitFor((l) => l.msg === msg, timeoutMs);
  } catch (err) {
    const given = ports
      .map((p) => `${p.option} ${p.port === 0 ? '0 (any free port)' : p.port}`)
      .join(', ');
    throw new StartError(
      'START_APP_FAILED',
      `${app.name} did not start (ports: ${given}): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '5' },
      interval: { type: 'string', default: '1000' },
      data: { type: 'string', default: join(REPO_ROOT, '.data') },
      port: { type: 'string' },
      'gateway-port': { type: 'string' },
      'mqtt-port': { type: 'string' },
      services: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  // The hosts are the apps' defaults (hub http.host, gateway http.host and mqtt.host): a port is
  // checked on the address it will be bound on.
  const ports: PortRequest[] = [
    { option: '--port', what: 'the hub', host: '127.0.0.1', defaultPort: 8080 },
    {
      option: '--gateway-port',
      what: 'the gateway health endpoint',
      host: '127.0.0.1',
      defaultPort: 8081,
    },
    { option: '--mqtt-port', what: 'the MQTT broker', host: '0.0.0.0', defaultPort: 1883 },
  ].map((r) => ({ ...r, requested: parsePort(r.option, values[r.option.slice(2) as 'port']) }));
  return { ...values, ports };
}

async function main(): Promise<void> {
  const values = options(process.argv.slice(2));
  if (values.help) return void process.stdout.write(HELP);
  // Before anything starts: a taken explicit port is refused here, with nothing to undo.
  const [hubPort, healthPort, mqttPort] = (await choosePorts(values.ports, listenProbe)) as [
    PortChoice,
    PortChoice,
    PortChoice,
  ];
  const logs = join(values.data, 'logs');
  mkdirSync(logs, { recursive: true });
  process.on('SIGINT', () => void stopAll('Ctrl-C'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  let brokers = process.env.KAFKA_BROKERS || undefined;
  let influxUrl = process.env.INFLUX_URL || undefined;
  if (values.services && !(brokers && influxUrl)) {
    say('Starting Kafka and InfluxDB (first run fetches Kafka from Maven Central)...');
    running.services = await startServices({ log: (m) => say(`  ${m}`) });
    brokers = running.services.kafkaBrokers.join(',');
    influxUrl = running.services.influxUrl;
  }
  say(
    brokers || influxUrl
      ? `Using ${brokers ? `Kafka ${brokers}` : 'HTTP ingest (no Kafka)'} and ${influxUrl ? `InfluxDB ${influxUrl}` : 'the SQLite store (no InfluxDB)'}`
      : 'Single-box mode: no Kafka, no InfluxDB (the hub keeps everything in SQLite).',
  );

  const token = randomBytes(16).toString('hex');
  const hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    env: {
      ...(brokers ? { KAFKA_BROKERS: brokers } : {}),
      ...(influxUrl ? { INFLUX_URL: influxUrl } : {}),
      HUB_HTTP_PORT: String(hubPort.port),
      HUB_DATA_DIR: join(values.data, 'hub'),
      HUB_RULES_FILE: join(REPO_ROOT, 'hub', 'rules.example.yaml'),
      HUB_API_TOKEN: token,
    },
    logFile: join(logs, 'hub.log'),
    ...relay('hub'),
  });
  running.apps.push(hub);
  const hubUrl = String((await ready(hub, 'REST API listening', [hubPort], 120_000)).url);
  const gateway = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    env: {
      ...(brokers ? { KAFKA_BROKERS: brokers } : { HUB_URL: hubUrl, HUB_TOKEN: token }),
      MQTT_PORT: String(mqttPort.port),
      GATEWAY_HTTP_PORT: String(healthPort.port),
      OUTBOX_PATH: join(values.data, 'outbox.sqlite'),
    },
    logFile: join(logs, 'gateway.log'),
    ...relay('gateway'),
  });
  running.apps.push(gateway);
  const gatewayPorts = [healthPort, mqttPort];
  const mqtt = Number((await ready(gateway, 'MQTT broker listening', gatewayPorts)).port);
  const gatewayHealthUrl = String(
    (await ready(gateway, 'health endpoint listening', gatewayPorts)).url,
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
  running.apps.push(sim);

  const actual = new Map([
    [hubPort, Number(new URL(hubUrl).port)],
    [healthPort, Number(new URL(gatewayHealthUrl).port)],
    [mqttPort, mqtt],
  ]);
  say(
    runningBanner({
      hubUrl,
      token,
      gatewayHealthUrl,
      mqttPort: mqtt,
      brokers,
      influxUrl,
      hubDataDir: join(values.data, 'hub'),
      logs,
      notes: [...actual].filter(([c]) => c.picked).map(([c, port]) => pickedNote(c, port)),
    }),
  );

  // Show that readings flow: poll the REST query above until it returns data.
  const example = exampleReadingsUrl(hubUrl);
  for (let i = 0; i < 60 && !running.stopping; i += 1) {
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

main().catch(async (err: unknown) => {
  if (running.stopping) return; // Ctrl-C during start-up: stopAll exits
  const code = (err as { code?: unknown }).code;
  const usage = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
  process.stderr.write(
    `npm start: ${(err as Error).message}${err instanceof StartError ? ` [${err.code}]` : ''}${usage ? ' (npm start -- --help lists the options)' : ''}\n`,
  );
  // Nothing stays behind: a hub left running would hold its port for the next try.
  if (running.apps.length > 0 || running.services) {
    running.stopping = true;
    say('Stopping what was started...');
    await stopEverything();
  }
  process.exit(exitCodeOf(err));
});
