import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppProcess } from '../../scripts/lib/app-process.ts';
import { type InfluxServer, startInflux } from '../../scripts/services/influx.ts';
import {
  dumpInflux,
  fleetRecords,
  produce,
  progress,
  RULES_YAML,
  startHub,
  waitUntil,
} from './support.ts';

// InfluxDB stops for a minute while readings keep arriving: the hub commits no offset for
// anything unwritten, and once InfluxDB is back it ends with exactly what an undisturbed run
// wrote (nothing lost, nothing doubled).

const brokers = inject('kafkaBrokers');
const sharedInflux = inject('influxUrl');
const run = randomBytes(4).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `iot-hub-outage-${run}-`));
const apps: AppProcess[] = [];
let influx: InfluxServer | undefined;
const OUTAGE_MS = Number(process.env.HUB_OUTAGE_MS ?? 60_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  await influx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('hub: InfluxDB outage', () => {
  it(
    'commits nothing unwritten while InfluxDB is down and loses nothing',
    async () => {
      const topic = `hub-outage-${run}`;
      const records = fleetRecords(4, 1200, 5);
      const half = Math.floor(records.length / 2);
      const config = join(dir, 'hub.yaml');
      writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);
      writeFileSync(
        config,
        // Idle ticks off: this test counts offsets against the records it produced.
        `stream:\n  rulesFile: ${join(dir, 'rules.yaml')}\n  idleTicks: false\nkafka:\n  deadLetterTopic: dlq-${run}\n  anomalyTopic: anomalies-${run}\n  sessionTimeoutMs: 10000\n`,
      );
      influx = await startInflux({ dir });
      const database = `outage_${run}`;
      const group = `outage-${run}`;
      const common = { brokers, topic, config, database };
      const hub = startHub({
        ...common,
        influxUrl: influx.url,
        group,
        logFile: join(dir, 'hub.log'),
      });
      apps.push(hub);
      await produce(brokers, topic, records.slice(0, half));
      await waitUntil('the first half committed', async () => {
        const p = await progress(brokers, topic, group);
        return p.committed === half;
      });

      const api = String((await hub.waitFor((l) => l.msg === 'REST API listening')).url);
      const health = async () =>
        (await (await fetch(`${api}/api/health`)).json()) as {
          status: string;
          writes: { ok: boolean; failing: { partition: number; code: string }[] };
        };
      expect(await health()).toMatchObject({ status: 'ok', writes: { ok: true, failing: [] } });
      await influx.stop();
      await produce(brokers, topic, records.slice(half));
      const during: number[] = [];
      const statuses = new Set<string>();
      let failing = 0;
      const until = Date.now() + OUTAGE_MS;
      while (Date.now() < until) {
        during.push((await progress(brokers, topic, group)).committed);
        const h = await health();
        statuses.add(h.status);
        failing = Math.max(failing, h.writes.failing.length);
        await new Promise((r) => setTimeout(r, 2000));
      }
      expect(Math.max(...during), 'offsets committed during the outage').toBe(half);
      // Said so: degraded, with the partitions whose writes fail (not "ok" while stuck).
      expect(statuses.has('degraded')).toBe(true);
      expect(failing).toBeGreaterThan(0);
      await influx.start();
      await waitUntil('every offset committed', async () => {
        const p = await progress(brokers, topic, group);
        return p.committed === records.length;
      });
      const afterOutage = await dumpInflux(influx.url, database);
      await waitUntil('health ok again', async () => (await health()).status === 'ok');

      // The reference: the same records, undisturbed, into the shared InfluxDB.
      const refGroup = `outage-ref-${run}`;
      const ref = startHub({
        ...common,
        influxUrl: sharedInflux,
        group: refGroup,
        logFile: join(dir, 'ref.log'),
      });
      apps.push(ref);
      await waitUntil('reference run done', async () => {
        const p = await progress(brokers, topic, refGroup);
        return p.committed === records.length;
      });
      const reference = await dumpInflux(sharedInflux, database);
      expect(afterOutage['"raw"."readings"']?.length).toBeGreaterThan(5000);
      expect(afterOutage).toEqual(reference);
      const failures = hub.lines.filter((l) => l.msg === 'write failed; retrying batch').length;
      expect(failures).toBeGreaterThan(0);
    },
    OUTAGE_MS + 120_000,
  );
});
