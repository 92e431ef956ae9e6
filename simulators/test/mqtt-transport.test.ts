import { parseJsonData } from '@iot-stream/firmware-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataPayload } from '../src/fleet.ts';
import { runMqttFleet } from '../src/mqtt-fleet.ts';
import { TestBroker } from './support/broker.ts';

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('MQTT transport against a real broker (aedes)', () => {
  it('publishes every reading at QoS 1, counts PUBACKs, retains birth and state', async () => {
    broker = await TestBroker.start();
    const acked: Array<[string, DataPayload]> = [];
    const summary = await runMqttFleet({
      url: broker.url,
      devices: 3,
      intervalMs: 5,
      count: 20,
      seed: 4,
      prefix: 'm-',
      onAck: (id, payload) => acked.push([id, payload]),
    });
    expect(summary).toMatchObject({
      devices: 3,
      sent: 60,
      acknowledged: 60,
      failed: 0,
      inflight: 0,
    });
    expect(summary.ackLatencyMs?.n).toBe(60);
    for (const id of ['m-001', 'm-002', 'm-003']) {
      const data = broker.data(id);
      expect(data.map((d) => d.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      for (const d of data) expect(parseJsonData(JSON.stringify(d)).ok).toBe(true);
      const times = data.map((d) => d.time as number);
      for (let i = 1; i < times.length; i += 1)
        expect(times[i]).toBeGreaterThan(times[i - 1] as number);
      expect(
        acked
          .filter(([a]) => a === id)
          .map(([, p]) => p.seq)
          .sort((a, b) => a - b),
      ).toEqual(data.map((d) => d.seq));
    }
    const retained = await broker.retained('iot/v1/+/+');
    expect(retained.get('iot/v1/m-001/state')).toBe('offline'); // a clean stop says so
    const birth = JSON.parse(retained.get('iot/v1/m-002/birth') as string);
    expect(birth).toEqual({
      deviceId: 'm-002',
      session: broker.data('m-002')[0]?.session,
      firmware: 'iot-sim',
      capabilities: 1,
      sensors: [
        { alias: 1, name: 'temperature', unit: 'Cel', scale: -2 },
        { alias: 2, name: 'humidity', unit: '%RH', scale: -1 },
      ],
    });
    // [FP-7.2] order: birth, then online, before any data
    const topics = broker.published
      .filter((p) => p.topic.startsWith('iot/v1/m-003/'))
      .map((p) => p.topic.slice(13));
    expect(topics.slice(0, 3)).toEqual(['birth', 'state', 'data']);
    expect(broker.published.find((p) => p.topic === 'iot/v1/m-003/state')).toMatchObject({
      payload: 'online',
      retain: true,
    });
  });

  it('a reboot drops the connection (the will says offline) and comes back with a new session', async () => {
    broker = await TestBroker.start();
    const summary = await runMqttFleet({
      url: broker.url,
      devices: 1,
      intervalMs: 10,
      count: 30,
      seed: 2,
      prefix: 'r-',
      behaviours: { rebootEveryMs: 60 },
    });
    expect(summary).toMatchObject({ sent: 30, acknowledged: 30, failed: 0 });
    const data = broker.data('r-001');
    const sessions = [...new Set(data.map((d) => d.session))];
    expect(sessions.length).toBeGreaterThan(1);
    for (const s of sessions) {
      const seqs = data.filter((d) => d.session === s).map((d) => d.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i)); // seq from 0 again
    }
    const births = broker.published
      .filter((p) => p.topic === 'iot/v1/r-001/birth')
      .map((p) => JSON.parse(p.payload).session);
    expect(births).toEqual(sessions);
    const states = broker.published
      .filter((p) => p.topic === 'iot/v1/r-001/state')
      .map((p) => p.payload);
    // a will for each reboot, and a clean `offline` at the end
    expect(states.filter((s) => s === 'offline').length).toBe(sessions.length);
  });

  it('logs in with username = device id and a password; a wrong password fails to start', async () => {
    broker = await TestBroker.start();
    const users: string[] = [];
    broker.broker.authenticate = (client, username, password, done) => {
      users.push(`${client?.id}:${username}`);
      const ok = username === client?.id && password?.toString() === 'secret';
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 }), ok);
    };
    const ok = await runMqttFleet({
      url: broker.url,
      devices: 2,
      intervalMs: 5,
      count: 3,
      seed: 1,
      prefix: 'a-',
      auth: { password: 'secret' },
    });
    expect(ok).toMatchObject({ sent: 6, acknowledged: 6 });
    expect(users).toEqual(expect.arrayContaining(['a-001:a-001', 'a-002:a-002']));
    await expect(
      runMqttFleet({
        url: broker.url,
        devices: 1,
        intervalMs: 5,
        count: 1,
        seed: 1,
        prefix: 'a-',
        auth: { password: 'nope' },
      }),
    ).rejects.toMatchObject({ code: 'MQTT_CONNECT_FAILED' });
  });

  it('counts readings never acknowledged within the drain timeout as failed', async () => {
    broker = await TestBroker.start();
    broker.broker.authorizePublish = (_client, packet, done) => {
      if (!packet.topic.endsWith('/data')) done(null); // data never gets its PUBACK
    };
    const summary = await runMqttFleet({
      url: broker.url,
      devices: 1,
      intervalMs: 5,
      count: 4,
      seed: 1,
      prefix: 'f-',
      drainTimeoutMs: 200,
    });
    expect(summary).toMatchObject({ sent: 4, acknowledged: 0, failed: 4, inflight: 0 });
  });
});
