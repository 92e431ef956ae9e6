import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMqttFleet } from '@iot-stream/simulators';
import { InfluxDB } from 'influx';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { type KafkaCluster, startKafka } from '../../scripts/services/kafka.ts';
import { readTopic } from '../support/kafka-read.ts';

// The gateway's and the hub's Kafka SASL settings (one schema, contracts' KafkaSecuritySchema)
// against a real broker with a SCRAM-SHA-512 listener.
const dir = mkdtempSync(join(tmpdir(), 'iot-sasl-'));
let kafka: KafkaCluster | undefined;
const apps: AppProcess[] = [];

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  await kafka?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Health {
  ready: boolean;
  kafka: { connected: boolean };
  outbox: { backlogRows: number };
  forwarder: { forwarded: number };
}

async function gateway(name: string, password: string) {
  const [mqttPort = 0, httpPort = 0] = await freePorts(2);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      `gatewayId: ${name}`,
      `mqtt: { port: ${mqttPort} }`,
      `outbox: { path: ${join(dir, `${name}.sqlite`)} }`,
      `kafka: { brokers: [${kafka?.saslBrokers.join(', ')}], topic: sasl-${name}, security: { sasl: { mechanism: scram-sha-512, username: gw } } }`,
      `http: { port: ${httpPort} }`,
    ].join('\n'),
  );
  const app = spawnApp({
    name,
    bin: BINS.gateway,
    args: ['--config', config],
    // The environment wins over the file: set the brokers here too (a developer's KAFKA_BROKERS).
    env: { KAFKA_SASL_PASSWORD: password, KAFKA_BROKERS: kafka?.saslBrokers.join(',') ?? '' },
    logFile: join(dir, `${name}.log`),
  });
  apps.push(app);
  await app.waitFor((l) => l.msg === 'MQTT broker listening', 30_000);
  const health = async () =>
    (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;
  const publish = () =>
    runMqttFleet({
      url: `mqtt://127.0.0.1:${mqttPort}`,
      devices: 2,
      intervalMs: 1,
      count: 25,
      seed: 3,
      prefix: `${name}-`,
    });
  return { app, health, publish };
}

describe('gateway to Kafka over SASL/SCRAM', () => {
  it('forwards with the right credentials and buffers, not ready, with wrong ones', {
    timeout: 120_000,
  }, async () => {
    kafka = await startKafka({
      dir,
      nodes: 1,
      scram: { username: 'gw', password: 'gw-secret' },
      log: () => undefined,
    });

    const good = await gateway('good', 'gw-secret');
    await good.app.waitFor((l) => l.msg === 'Kafka connected', 60_000);
    expect((await good.publish()).acknowledged).toBe(50);
    await expect
      .poll(async () => (await good.health()).forwarder.forwarded, { timeout: 30_000 })
      .toBe(50);
    const records = await readTopic(kafka.saslBrokers, 'sasl-good', 30_000, {
      sasl: { mechanism: 'scram-sha-512', username: 'gw', password: 'gw-secret' },
    });
    expect(records).toHaveLength(50);

    const bad = await gateway('bad', 'wrong-secret');
    expect((await bad.publish()).acknowledged).toBe(50); // still accepted into the outbox
    await new Promise((r) => setTimeout(r, 3000));
    const h = await bad.health();
    expect(h.kafka.connected).toBe(false);
    expect(h.ready).toBe(false);
    expect(h.outbox.backlogRows).toBe(50);
    expect(bad.app.lines.some((l) => /SASL|authentic/i.test(JSON.stringify(l)))).toBe(true);

    // The hub reads the same topic over SASL into InfluxDB (password from a NAME_FILE secret).
    const influxUrl = inject('influxUrl');
    // Its own database: with INFLUX_URL reused across runs, a fixed name counted earlier runs' points.
    const database = `hub_sasl_${randomBytes(4).toString('hex')}`;
    const secret = join(dir, 'hub-kafka-password');
    writeFileSync(secret, 'gw-secret\n');
    const hub = await startSaslHub('hub', { KAFKA_SASL_PASSWORD_FILE: secret }, database);
    await hub.waitFor((l) => l.msg === 'consuming', 60_000);
    const u = new URL(influxUrl);
    const influx = new InfluxDB({ host: u.hostname, port: Number(u.port), database });
    await expect
      .poll(
        async () => {
          const rows = await influx.query('SELECT count("value") AS n FROM "raw"."readings"');
          return Number((rows[0] as { n?: number } | undefined)?.n ?? 0);
        },
        { timeout: 60_000 },
      )
      .toBe(50 * 2); // 50 readings, 2 metrics each (the simulator's default profile)

    // A wrong password stops the hub at once with the broker's reason, exit 1.
    const wrong = await startSaslHub(
      'hub-wrong',
      { KAFKA_SASL_PASSWORD: 'wrong-secret' },
      database,
    );
    expect(await wrong.exited).toBe(1);
    expect(wrong.lines.some((l) => /SASL|authentic/i.test(JSON.stringify(l)))).toBe(true);
  });
});

async function startSaslHub(name: string, env: Record<string, string>, database: string) {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    `kafka:\n  topic: sasl-good\n  groupId: ${name}\n  security:\n    sasl:\n      mechanism: scram-sha-512\n      username: gw\n`,
  );
  const app = spawnApp({
    name,
    bin: BINS.hub,
    args: ['--config', config],
    env: {
      KAFKA_BROKERS: kafka?.saslBrokers.join(',') ?? '',
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DATABASE: database,
      HUB_HTTP_PORT: '0',
      HUB_DATA_DIR: join(dir, `${name}-data`),
      ...env,
    },
    logFile: join(dir, `${name}.log`),
  });
  apps.push(app);
  return app;
}
