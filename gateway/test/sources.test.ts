import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.ts';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import { newIngestCounters } from '../src/sources/ingest.ts';
import { createSources, SOURCE_KINDS, startSources } from '../src/sources/registry.ts';

// The Source contract, for every kind in the registry: built from the configuration, a name
// that is its key in /health and the metrics, ingest counters from zero, a start that resolves
// (an input that is not there yet is retried in the background) and a stop that ends it.

const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function deps() {
  const outbox = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'src-')), 'o.sqlite') });
  cleanups.push(() => outbox.close());
  return { outbox, acks: outbox, onStored: () => undefined, log };
}

describe('sources (registry and Source contract)', () => {
  it('builds one source per configured input; each starts, counts from zero and stops', async () => {
    const tty = join(mkdtempSync(join(tmpdir(), 'src-')), 'no-such-tty');
    const config = loadGatewayConfig({
      env: {},
      overrides: {
        'mqtt.host': '127.0.0.1',
        'mqtt.port': 0,
        // Nothing listens there: the subscription keeps trying in the background.
        'mqtt.external.url': 'mqtt://127.0.0.1:1',
        'serial.ports': [{ path: tty }],
      },
    });
    const sources = createSources(config, deps());
    expect(sources.map((s) => s.name)).toEqual(['mqtt', 'mqttExternal', `serial:${tty}`]);
    const running = await startSources(sources);
    cleanups.push(() => running.stop());
    expect(running.ports.mqtt?.port).toBeGreaterThan(0);
    expect(running.ports.mqttExternal).toEqual({});
    const counters = running.counters();
    expect(Object.keys(counters)).toEqual(sources.map((s) => s.name));
    for (const c of Object.values(counters)) expect(c).toMatchObject(newIngestCounters());
  });

  it('builds nothing for an input the configuration leaves out', () => {
    const config = loadGatewayConfig({
      env: {},
      overrides: { 'mqtt.embedded': false, 'serial.ports': [{ path: '/dev/ttyUSB0' }] },
    });
    const d = deps();
    expect(SOURCE_KINDS.mqtt?.create(config, d)).toEqual([]);
    expect(SOURCE_KINDS.mqttExternal?.create(config, d)).toEqual([]);
    expect(SOURCE_KINDS.serial?.create(config, d).map((s) => s.name)).toEqual([
      'serial:/dev/ttyUSB0',
    ]);
  });
});
