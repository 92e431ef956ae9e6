import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SerialDevice } from '../../gateway/test/support/serial-device.ts';
import { type AppProcess, gatewayKafkaClient, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { installedPackages, installGateway, packGateway } from '../support/installed-gateway.ts';
import { readTopic } from '../support/kafka-read.ts';
import { PtyPair } from '../support/pty.ts';

export interface InstalledGatewayOptions {
  /** Names the suite: the platform it runs on. */
  platform: string;
  /**
   * A folder holding the `node` and `npm` to install and run the gateway with (default: this
   * process's node and the npm on PATH), e.g. scripts/arm64-node.sh's emulated arm64 ones.
   */
  binDir?: () => Promise<string>;
  /** What `process.arch` must say on that node. */
  arch: string;
}

/**
 * The gateway as a Pi user gets it (docs/raspberry-pi.md): the packed tarball installed with
 * `npm install -g`, nothing else from this repository. It must bring only its runtime
 * dependencies, run as JavaScript, and do the whole job: MQTT QoS 1 and a serial device in,
 * durably stored, forwarded to a real Kafka, surviving a SIGKILL.
 */
export function installedGatewaySuite(options: InstalledGatewayOptions): void {
  const brokers = inject('kafkaBrokers');
  const run = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `iot-package-${run}-`));
  let tarball = '';
  let installed = '';
  let binDir: string | undefined;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    binDir = await options.binDir?.();
    tarball = await packGateway(dir);
    installed = await installGateway(tarball, join(dir, 'prefix'), binDir);
  }, 600_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const node = () => (binDir ? join(binDir, 'node') : process.execPath);

  describe(`the packed gateway, installed with npm install -g on ${options.platform}`, () => {
    it(`runs on ${options.arch} with the native addons built for it`, () => {
      // Loads both addons as the gateway does, then lists the shared objects mapped into the
      // process: an addon for another architecture would not load at all.
      const probe = [
        `const Database = require(${JSON.stringify(join(installed, 'node_modules', 'better-sqlite3'))});`,
        `require(${JSON.stringify(join(installed, 'node_modules', 'serialport'))});`,
        "new Database(':memory:').prepare('select 1').get();",
        "const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');",
        'const addons = [...new Set(maps.match(/\\S+\\.node$/gm))];',
        'console.log(JSON.stringify({ arch: process.arch, addons }));',
      ].join('\n');
      const out = JSON.parse(execFileSync(node(), ['-e', probe]).toString());
      expect(out.arch).toBe(options.arch);
      const names = (out.addons as string[]).map((a) => a.slice(installed.length + 1));
      expect(names).toEqual(
        expect.arrayContaining([
          `node_modules/better-sqlite3/prebuilds/linux-${options.arch}.node`,
          expect.stringMatching(
            new RegExp(`^node_modules/@serialport/bindings-cpp/prebuilds/linux-${options.arch}/`),
          ),
        ]),
      );
    });

    it('holds the built JavaScript, not the sources', () => {
      const files = execFileSync('tar', ['tzf', tarball]).toString().trim().split('\n');
      expect(files).toContain('package/bin/iot-gateway.js');
      expect(files).toContain('package/dist/cli.js');
      expect(files).toContain('package/dist/share/iot-gateway.service');
      expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    });

    it('brings only its runtime dependencies: native addons, no hub, no dev tools', () => {
      const packages = installedPackages(installed);
      expect(packages).toEqual(expect.arrayContaining(['better-sqlite3', 'serialport']));
      for (const bundled of [
        'aedes',
        'fastify',
        'kafkajs',
        '@platformatic/kafka',
        'mqtt',
        'pino',
        'yaml',
      ])
        expect(packages).not.toContain(bundled);
      for (const tool of ['tsx', 'typescript', 'esbuild', 'vitest', '@biomejs/biome'])
        expect(packages).not.toContain(tool);
      expect(packages.filter((p) => p.startsWith('@iot-stream/'))).toEqual([]);
    });

    it('stores MQTT and serial readings and forwards them to Kafka, across a SIGKILL', async () => {
      const pty = await new PtyPair(mkdtempSync(join(dir, 'pty-'))).start();
      stops.push(() => pty.stop());
      const [mqttPort = 0, httpPort = 0] = await freePorts(2);
      const topic = `package-${run}`;
      const config = join(dir, 'gateway.yaml');
      writeFileSync(
        config,
        [
          `gatewayId: gw-${run}`,
          `mqtt: { port: ${mqttPort} }`,
          `serial: { ports: [{ path: ${pty.gateway} }] }`,
          `outbox: { path: ${join(dir, 'outbox.sqlite')} }`,
          // GATEWAY_KAFKA_CLIENT=platformatic: the bundled @platformatic/kafka (and its WebAssembly).
          `kafka: { brokers: [${brokers.join(', ')}], topic: ${topic}, client: ${gatewayKafkaClient() ?? 'kafkajs'} }`,
          `http: { port: ${httpPort} }`,
        ].join('\n'),
      );
      const start = async (): Promise<AppProcess> => {
        const gateway = spawnApp({
          name: `installed-gateway-${options.arch}`,
          node: node(),
          bin: join(installed, 'bin', 'iot-gateway.js'),
          args: ['--config', config],
          logFile: join(dir, 'gateway.log'),
        });
        stops.push(() => gateway.stop('SIGKILL'));
        await gateway.waitFor((l) => l.msg === 'serial port open', 60_000);
        await gateway.waitFor((l) => l.msg === 'health endpoint listening', 60_000);
        const client = gatewayKafkaClient() ?? 'kafkajs';
        await gateway.waitFor((l) => l.msg === 'Kafka connected' && l.client === client, 60_000);
        return gateway;
      };
      const publish = async (from: number, to: number) => {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          clientId: 'mqtt-dev',
          reconnectPeriod: 0,
        });
        for (let seq = from; seq < to; seq += 1) {
          const payload = { session: 1, seq, metrics: { t: { value: seq } } };
          await client.publishAsync('iot/v1/mqtt-dev/data', JSON.stringify(payload), { qos: 1 });
        }
        await client.endAsync();
      };

      const first = await start();
      await publish(0, 5);
      const device = new SerialDevice(pty.device, 7);
      await device.open();
      stops.push(() => device.close());
      await device.send({
        type: 'hello',
        body: { deviceId: 'serial-dev', firmware: '1.0.0', capabilities: 0x05 },
      });
      await device.send({ type: 'describe', body: { sensors: [{ alias: 1, name: 't' }] } });
      const frames = [];
      for (let i = 0; i < 3; i += 1)
        frames.push(
          await device.send({ type: 'data', body: { time: Date.now(), readings: [[1, i]] } }),
        );
      for (const deadline = Date.now() + 15_000; !frames.every((f) => device.acked(f.seq)); ) {
        if (Date.now() > deadline) throw new Error('the serial frames were not all acknowledged');
        await new Promise((r) => setTimeout(r, 20));
      }
      await device.close();
      await first.stop('SIGKILL'); // acknowledged, maybe not forwarded yet: must survive

      await start();
      await publish(5, 10);
      let records: Awaited<ReturnType<typeof readTopic>> = [];
      for (const deadline = Date.now() + 60_000; records.length < 13; ) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
        records = await readTopic(brokers, topic).catch(() => []);
      }
      const mqttSeqs = records.filter((r) => r.deviceId === 'mqtt-dev').map((r) => r.seq ?? -1);
      expect([...new Set(mqttSeqs)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // At least once, as the MQTT readings above: readings the killed gateway had forwarded
      // but not yet marked sent are forwarded again after its restart.
      const serial = records.filter((r) => r.deviceId === 'serial-dev');
      expect([...new Set(serial.map((r) => r.metrics.t?.value))].sort()).toEqual([0, 1, 2]);
    });
  });
}
