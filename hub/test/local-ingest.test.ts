import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalLog } from '../src/local/log.ts';
import { LocalSource } from '../src/local/source.ts';
import type { SourceBatch } from '../src/ports.ts';
import { record } from './support/evaluate.ts';
import { MemoryInflux } from './support/memory-stores.ts';
import { testPipeline } from './support/pipeline-fixture.ts';
import { singleBoxApi } from './support/single-box-api.ts';

const dir = mkdtempSync(join(tmpdir(), 'hub-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 11, 1);
const log = pino({ level: 'silent' });

const api = (local: LocalLog) => singleBoxApi(local, 'token-0123456789abcdef');

describe('single-box ingest', () => {
  it('stores valid records durably, answers duplicates and keeps invalid ones as dead letters', async () => {
    const path = join(dir, 'log.db');
    let local = new LocalLog(path);
    const records = [1, 2, 3].map((i) => ({
      ...record('dev-1', i, T0 + i * 1000, { t: i }),
      gatewaySeq: i,
    }));
    const post = (l: LocalLog, body: unknown, token = 'token-0123456789abcdef') =>
      api(l).inject({
        method: 'POST',
        url: '/api/ingest',
        headers: { authorization: `Bearer ${token}` },
        payload: body as object,
      });
    expect((await post(local, { records }, 'wrong-token-0123456789')).statusCode).toBe(401);
    const first = await post(local, { records: [...records, { v: 1, deviceId: 'x' }] });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      accepted: 3,
      duplicates: 0,
      invalid: [{ index: 3, code: 'RECORD_INVALID' }],
    });
    expect(local.outputs('dlq')).toHaveLength(1);
    local.close();

    // After a restart the records are there, and a resend (the answer was lost) is recognised.
    local = new LocalLog(path);
    expect(local.read('-1', 10).map((e) => e.record?.gatewaySeq)).toEqual([1, 2, 3]);
    const again = await post(local, { records: [records[2], { ...records[2], gatewaySeq: 4 }] });
    expect(again.json()).toMatchObject({ accepted: 1, duplicates: 1, invalid: [] });

    // The source hands them to the pipeline in order, moves on only after it resolved, and
    // retries a failed batch; a checkpoint-covered log is pruned.
    const seen: SourceBatch[] = [];
    let fail = true;
    const source = new LocalSource({ log: local, logger: log, backoff: { minMs: 5, maxMs: 5 } });
    await source.start(
      async (b) => {
        seen.push(b);
        if (fail) {
          fail = false;
          throw new Error('store down');
        }
        await local.save(
          0,
          Buffer.from(JSON.stringify({ v: 1, offset: b.lastOffset, state: null })),
        );
      },
      () => undefined,
    );
    for (let i = 0; i < 100 && source.counters.batches < 1; i += 1)
      await new Promise((r) => setTimeout(r, 10));
    await source.stop();
    expect(seen).toHaveLength(2);
    expect(seen[1]?.records.map((r) => r.record.gatewaySeq)).toEqual([1, 2, 3, 4]);
    expect(source.counters.writeFailures).toBe(1);
    expect(local.read('-1', 10)).toEqual([]); // pruned: the checkpoint covers them
    local.close();
  });

  it('a failed batch is read again from after the checkpoint, also when a tick an older hub wrote comes first', async () => {
    const path = join(dir, 'ticks.db');
    const local = new LocalLog(path);
    const at = (i: number) => ({ ...record('dev-1', i, T0 + i * 1000, { t: i }), gatewaySeq: i });
    local.append([at(1), at(2)]);
    const raw = new Database(path);
    raw.prepare("INSERT INTO log (kind, value) VALUES ('tick', '{}')").run(); // offset 3
    raw.close();
    local.append([4, 5, 6, 7].map(at));
    const influx = new MemoryInflux();
    let failed = false;
    const pipeline = testPipeline({
      store: {
        writeBatch: async (b) => {
          if (!failed && b.readings.some((r) => r.gatewaySeq === 5)) {
            failed = true;
            throw new Error('store down');
          }
          await influx.writeBatch(b);
        },
      },
      checkpoints: local,
      source: 'local',
      checkpointEvery: { ms: 3_600_000, records: 2 },
      retainedFrom: async () => local.start(),
    });
    // Batches of two: [1, 2] checkpointed; [tick, 4] not (one record); [5, 6] fails, and the
    // partition is read again from offset 3, the tick: no record there, still no gap.
    const source = new LocalSource({
      log: local,
      logger: log,
      batchSize: 2,
      backoff: { minMs: 5, maxMs: 5 },
    });
    const seen: SourceBatch[] = [];
    await source.start(
      (b) => {
        seen.push(b);
        return pipeline.handle(b);
      },
      (p) => pipeline.assign(p),
    );
    for (let i = 0; i < 300 && source.counters.records < 7; i += 1)
      await new Promise((r) => setTimeout(r, 10));
    await source.stop();
    const read = seen.filter((b) => !b.flush);
    expect(read.map((b) => `${b.fetchedFrom}-${b.lastOffset}`)).toEqual([
      '0-2', // entries after the start position (-1): offsets count from 1
      '3-4',
      '5-6',
      '3-4',
      '5-6',
      '7-7',
    ]);
    expect(source.counters.writeFailures).toBe(1);
    const written = [...influx.points.keys()].filter((k) => k.startsWith('readings|'));
    expect(written).toHaveLength(6);
    local.close();
  });

  it('on a quiet log, a checkpoint that does not happen (a failure, or not yet) is asked for again a second later, not in a loop', async () => {
    const local = new LocalLog(join(dir, 'quiet.db'));
    local.append([1, 2, 3].map((i) => ({ ...record('dev-1', i, T0 + i * 1000, { t: i }) })));
    const pipeline = testPipeline({
      store: new MemoryInflux(),
      checkpoints: {
        save: async () => {
          throw new Error('checkpoint store down');
        },
        load: (ps) => local.load(ps),
      },
      source: 'local',
      checkpointEvery: { ms: 3_600_000, records: 1_000_000 },
    });
    const source = new LocalSource({ log: local, logger: log, backoff: { minMs: 5, maxMs: 5 } });
    let flushes = 0;
    await source.start(
      async (b) => {
        if (b.flush) flushes += 1;
        await new Promise((r) => setImmediate(r)); // a loop of promises alone would starve timers
        return pipeline.handle(b);
      },
      (p) => pipeline.assign(p),
    );
    await new Promise((r) => setTimeout(r, 500));
    await source.stop();
    expect(source.counters.records).toBe(3);
    expect(flushes).toBe(1); // the next one a second after it
    local.close();
  });
});
