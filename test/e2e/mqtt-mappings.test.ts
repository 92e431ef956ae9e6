import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ReadingRecord } from '@iot-stream/contracts';
import mqttPacket from 'mqtt-packet';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';
import { startMosquitto } from '../bench/lib/mosquitto.ts';
import { readTopic } from '../support/kafka-read.ts';

// The shipped mapping rules (gateway/mappings/*.yaml, all of them in one configuration, as a
// user would copy them) against real payloads of each device, published by Debian's
// mosquitto_pub to the real gateway binary, read back from a real Kafka. Once through the
// embedded broker, once through a real Mosquitto the gateway subscribes to.
const brokers = inject('kafkaBrokers');
const run = randomBytes(4).toString('hex');
const root = mkdtempSync(join(tmpdir(), `iot-mappings-${run}-`));
const stops: Array<() => Promise<unknown>> = [];
const exec = promisify(execFile);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  rmSync(root, { recursive: true, force: true });
});

const EXAMPLES = ['tasmota', 'shelly', 'zigbee2mqtt', 'esphome', 'senml'];
const rules = EXAMPLES.flatMap(
  (name) =>
    (
      parse(
        readFileSync(join(import.meta.dirname, '../../gateway/mappings', `${name}.yaml`), 'utf8'),
      ) as {
        mqtt: { mappings: unknown[] };
      }
    ).mqtt.mappings,
);

/** What each device publishes, as its project documents it. */
const MESSAGES: Array<[topic: string, payload: string]> = [
  // Tasmota, a Sonoff TH16 with an AM2301: its console log in robertklep/name.klep.sonoff#6
  // (tele/<topic>/SENSOR every TelePeriod; STATE beside it, not stored).
  [
    'tele/th16/SENSOR',
    '{"Time":"2018-03-02T18:25:03","AM2301":{"Temperature":22.6,"Humidity":32.4},"TempUnit":"C"}',
  ],
  [
    'tele/th16/STATE',
    '{"Time":"2018-03-02T18:25:03","Uptime":"0T00:00:19","Vcc":3.151,"POWER":"OFF"}',
  ],
  // Tasmota, a Sonoff POW: arendst/Tasmota#1621.
  [
    'tele/pow-1/SENSOR',
    '{"Time":"2018-01-17T18:59:50","ENERGY":{"Total":1.956,"Yesterday":0.054,"Today":0.049,"Period":0,"Power":9,"Factor":0.43,"Voltage":231,"Current":0.089}}',
  ],
  // Shelly Gen2 (Plus 1PM), "Generic status update over MQTT": <id>/status/switch:0 carries the
  // Switch component's status (shelly-api-docs.shelly.cloud, gen2 Switch.GetStatus).
  [
    'shellyplus1pm-a8032ab12345/status/switch:0',
    '{"id":0,"source":"init","output":true,"apower":24.3,"voltage":230.1,"current":0.121,"aenergy":{"total":1520.351,"by_minute":[412.5,405.2,409.9],"minute_ts":1700000040},"temperature":{"tC":48.2,"tF":118.8}}',
  ],
  ['shellyplus1pm-a8032ab12345/online', 'true'],
  // Shelly Gen1 (1PM): shellies/<id>/relay/0/power, plain watts (Shelly Gen1 MQTT API).
  ['shellies/shelly1pm-BA1936/relay/0/power', '24.30'],
  // Zigbee2MQTT, an Aqara WSDCGQ11LM: zigbee2mqtt/<friendly name> (zigbee2mqtt.io, "MQTT Topics
  // and Messages"; the payload from a Zigbee2MQTT 1.6 log).
  [
    'zigbee2mqtt/0x00158d00036c1821',
    '{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2985}',
  ],
  // ESPHome: <node>/sensor/<object id>/state, a plain value; binary sensors ON/OFF
  // (esphome.io, MQTT client component; mqtt_binary_sensor.cpp publishes "ON"/"OFF").
  ['porch/sensor/temperature/state', '21.5'],
  ['porch/binary_sensor/motion/state', 'ON'],
  ['porch/status', 'online'],
  // SenML (RFC 8428, 5.1.2's shape): relative times, so stamped at the receive time.
  [
    'senml/kitchen',
    '[{"bn":"kitchen:","bu":"Cel","n":"temp","v":21.5},{"n":"rh","u":"%RH","v":40}]',
  ],
  // Broken on purpose: a value that is no number, quarantined with its code.
  ['zigbee2mqtt/broken', '{"temperature":"warm"}'],
];

interface Health {
  outbox: { backlogRows: number; quarantinedByCode: Record<string, number> };
  sources: Record<string, { received: number; duplicates: number }>;
}

async function startGateway(name: string, mqtt: Record<string, unknown>, ready: string) {
  const [mqttPort = 0, httpPort = 0] = await freePorts(2);
  const topic = `mappings-${name}-${run}`;
  const config = join(root, `${name}.yaml`);
  const settings = {
    gatewayId: `gw-${name}-${run}`,
    mqtt: { port: mqttPort, ...mqtt, mappings: rules },
    outbox: { path: join(root, `${name}.sqlite`) },
    kafka: { brokers, topic },
    http: { port: httpPort },
  };
  writeFileSync(config, JSON.stringify(settings)); // JSON is YAML
  const gateway: AppProcess = spawnApp({
    name: `gateway-${name}`,
    bin: BINS.gateway,
    args: ['--config', config],
    logFile: join(root, `${name}.log`),
  });
  stops.push(() => gateway.stop('SIGKILL'));
  await gateway.waitFor((l) => l.msg === ready, 30_000);
  await gateway.waitFor((l) => l.msg === 'health endpoint listening', 30_000);
  const health = async () =>
    (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Health;
  return { mqttPort, topic, health };
}

/** mosquitto_pub, QoS 1: it exits once the broker acknowledged (the gateway: on disk). */
const publish = (url: string, topic: string, payload: string) => {
  const { hostname, port } = new URL(url);
  return exec('mosquitto_pub', [
    '-h',
    hostname,
    '-p',
    port,
    '-q',
    '1',
    '-i',
    `pub-${run}`,
    '-t',
    topic,
    '-m',
    payload,
  ]);
};

/**
 * A QoS 1 publish and its retransmission, as a device whose PUBACK was lost sends them: the same
 * packet identifier, the second with the DUP flag. Resolves after both PUBACKs.
 */
async function publishAndResend(url: string, topic: string, payload: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const acks: string[] = [];
  parser.on('packet', (p) => acks.push(p.cmd));
  socket.on('data', (d) => parser.parse(d));
  const send = (p: mqttPacket.Packet) => socket.write(mqttPacket.generate(p));
  const until = async (n: number) => {
    for (const deadline = Date.now() + 10_000; acks.length < n; ) {
      if (Date.now() > deadline) throw new Error(`no answer from the broker: ${acks.join()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await new Promise((r) => socket.once('connect', r));
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: `dup-${run}`,
    clean: true,
    keepalive: 30,
  });
  await until(1); // CONNACK
  const publish = (dup: boolean): mqttPacket.IPublishPacket => ({
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    messageId: 42,
    dup,
    retain: false,
  });
  send(publish(false));
  await until(2);
  send(publish(true));
  await until(3);
  expect(acks).toEqual(['connack', 'puback', 'puback']);
  socket.end();
}

/** Waits until the outbox is empty, then reads the whole topic, by device. */
async function drained(g: Awaited<ReturnType<typeof startGateway>>) {
  const deadline = Date.now() + 60_000;
  while ((await g.health()).outbox.backlogRows > 0) {
    if (Date.now() > deadline) throw new Error('the outbox did not drain to Kafka');
    await new Promise((r) => setTimeout(r, 200));
  }
  const byDevice: Record<string, ReadingRecord[]> = {};
  for (const r of await readTopic(brokers, g.topic)) {
    byDevice[r.deviceId] = [...(byDevice[r.deviceId] ?? []), r];
  }
  return byDevice;
}

const values = (records: ReadingRecord[] | undefined) =>
  records?.map((r) =>
    Object.fromEntries(Object.entries(r.metrics).map(([k, m]) => [k, [m.value, m.unit]])),
  );

describe('shipped MQTT mappings through the gateway to Kafka', () => {
  it('embedded broker: every example device becomes readings; the same value again is a reading, a resend is not', async () => {
    const g = await startGateway('embedded', {}, 'MQTT broker listening');
    const url = `mqtt://127.0.0.1:${g.mqttPort}`;
    for (const [topic, payload] of MESSAGES) await publish(url, topic, payload);
    // pow-1's SENSOR message carries no seq and no usable time: the digest decides.
    const [againTopic, againPayload] = MESSAGES.find(([t]) => t === 'tele/pow-1/SENSOR') as [
      string,
      string,
    ];
    await publish(url, againTopic, againPayload); // the same value reported again: a new reading
    await publishAndResend(url, againTopic, againPayload); // one more, and its DUP resend
    const byDevice = await drained(g);
    expect(Object.keys(byDevice).sort()).toEqual([
      '0x00158d00036c1821',
      'kitchen',
      'porch',
      'pow-1',
      'shelly1pm-BA1936',
      'shellyplus1pm-a8032ab12345',
      'th16',
    ]);
    expect(values(byDevice.th16)).toEqual([
      { temperature: [22.6, 'Cel'], humidity: [32.4, '%RH'] },
    ]);
    const pow = {
      power: [9, 'W'],
      voltage: [231, 'V'],
      current: [0.089, 'A'],
      energy_total: [1.956, 'kWh'],
    };
    expect(values(byDevice['pow-1'])).toEqual([pow, pow, pow]);
    expect(values(byDevice['shellyplus1pm-a8032ab12345'])).toEqual([
      {
        output: [1, undefined],
        power: [24.3, 'W'],
        voltage: [230.1, 'V'],
        current: [0.121, 'A'],
        energy_total: [1520.351, 'Wh'],
        temperature: [48.2, 'Cel'],
      },
    ]);
    expect(values(byDevice['shelly1pm-BA1936'])).toEqual([{ power: [24.3, 'W'] }]);
    expect(values(byDevice['0x00158d00036c1821'])).toEqual([
      {
        temperature: [22.75, 'Cel'],
        humidity: [55.43, '%RH'],
        pressure: [1000.6, 'hPa'],
        battery: [86, '%'],
        voltage: [2985, 'mV'],
        linkquality: [97, undefined],
      },
    ]);
    expect(
      values(byDevice.porch)?.sort(
        (a, b) => Object.keys(a)[0]?.localeCompare(Object.keys(b)[0] ?? '') ?? 0,
      ),
    ).toEqual([{ motion: [1, undefined] }, { temperature: [21.5, 'Cel'] }]);
    expect(values(byDevice.kitchen)).toEqual([
      { 'kitchen.temp': [21.5, 'Cel'], 'kitchen.rh': [40, '%RH'] },
    ]);
    for (const records of Object.values(byDevice))
      for (const r of records) expect(Math.abs(r.time - r.receivedAt)).toBeLessThan(60_000);
    const health = await g.health();
    expect(health.outbox.quarantinedByCode).toEqual({ MAPPING_NOT_A_NUMBER: 1 });
    expect(health.sources.mqtt).toMatchObject({ duplicates: 1 });
  });

  it('external broker (Mosquitto): the same rules, the rules topics subscribed to', async () => {
    const mosquitto = await startMosquitto(mkdtempSync(join(root, 'mosquitto-')));
    stops.push(() => mosquitto.stop());
    const g = await startGateway(
      'external',
      { embedded: false, external: { url: mosquitto.url } },
      'connected to external MQTT broker',
    );
    // The subscription follows the CONNACK: publish until the gateway has taken the message.
    // Each publish through Mosquitto is a new message to the gateway (no DUP): the same value
    // reported again is stored again.
    const [topic, payload] = MESSAGES[6] as [string, string];
    const deadline = Date.now() + 30_000;
    while (((await g.health()).sources.mqttExternal?.received ?? 0) === 0) {
      if (Date.now() > deadline)
        throw new Error('the gateway never received the Zigbee2MQTT message');
      await publish(mosquitto.url, topic, payload);
      await new Promise((r) => setTimeout(r, 200));
    }
    await publish(mosquitto.url, topic, payload);
    for (const [t, p] of MESSAGES.slice(7, 9)) await publish(mosquitto.url, t, p);
    // Mosquitto acknowledged the publisher, not the gateway: wait for the gateway's counters.
    await expect
      .poll(async () => (await g.health()).sources.mqttExternal?.received, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(4);
    const byDevice = await drained(g);
    const zigbee = values(byDevice['0x00158d00036c1821']) ?? [];
    expect(zigbee.length).toBeGreaterThanOrEqual(2);
    expect(new Set(zigbee.map((v) => JSON.stringify(v))).size).toBe(1);
    expect(values(byDevice.porch)).toHaveLength(2);
  });
});
