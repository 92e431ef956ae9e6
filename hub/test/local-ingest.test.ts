import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalLog } from '../src/local/log.ts';
import { LocalSource } from '../src/local/source.ts';
import type { SourceBatch } from '../src/ports.ts';
import { record } from './support/evaluate.ts';
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
        await local.save(0, { v: 1, offset: b.lastOffset, state: null });
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
});
