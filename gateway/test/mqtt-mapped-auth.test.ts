import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.ts';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import { hashPassword } from '../src/sources/mqtt/auth.ts';
import { createSources, startSources } from '../src/sources/registry.ts';

// The embedded broker as main.ts builds it (registry), with password authentication and a
// mapping rule: a device's mapped topics are its own, as its iot/v1/{id}/ topics are.
const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway() {
  const dir = mkdtempSync(join(tmpdir(), 'mapped-auth-'));
  const devicesFile = join(dir, 'devices.yaml');
  const devices = { 'plug-1': { passwordHash: hashPassword('secret-one') }, 'plug-2': {} };
  writeFileSync(devicesFile, JSON.stringify({ devices }));
  const config = loadGatewayConfig({
    overrides: {
      'mqtt.host': '127.0.0.1',
      'mqtt.port': 0,
      'mqtt.auth': 'password',
      'mqtt.devicesFile': devicesFile,
      'mqtt.mappings': [
        {
          name: 'tasmota',
          topic: 'tele/{device}/SENSOR',
          metrics: { power: { path: 'ENERGY.Power', unit: 'W' } },
        },
        { name: 'tasmota-other', topic: 'tele/{device}/#', format: 'ignore' },
      ],
    },
  });
  const outbox = new SqliteOutbox({ path: join(dir, 'outbox.sqlite') });
  cleanups.push(() => outbox.close());
  const sources = await startSources(
    createSources(config, { outbox, acks: outbox, onStored: () => undefined, log }),
  );
  cleanups.push(() => sources.stop());
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${sources.ports.mqtt?.port}`, {
    clientId: 'plug-1',
    username: 'plug-1',
    password: 'secret-one',
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true));
  return { outbox, client, counters: () => sources.counters().mqtt };
}

const sensor = '{"Time":"2018-01-17T18:59:50","ENERGY":{"Power":9}}';

describe('mapped topics on the embedded broker with authentication', () => {
  it('stores what a device publishes to its mapped topics, accepts its ignored ones', async () => {
    const { outbox, client, counters } = await gateway();
    await client.publishAsync('tele/plug-1/SENSOR', sensor, { qos: 1 });
    await client.publishAsync('tele/plug-1/LWT', 'Online', { qos: 1 });
    expect(outbox.peek(10)).toEqual([
      expect.objectContaining({ deviceId: 'plug-1', metrics: { power: { value: 9, unit: 'W' } } }),
    ]);
    expect(counters()).toMatchObject({ received: 1, stored: 1, quarantined: 0 });
  });

  it("refuses a publish to another device's mapped topic, keeping the payload in quarantine", async () => {
    const { outbox, client, counters } = await gateway();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('tele/plug-2/SENSOR', sensor, { qos: 1 });
    await closed;
    expect(counters()?.rejected?.['publish-denied']).toBe(1);
    expect(outbox.stats()).toMatchObject({
      backlogRows: 0,
      quarantinedByCode: { UNAUTHORISED_TOPIC: 1 },
    });
  });
});
