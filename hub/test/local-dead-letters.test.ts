import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_INGEST_BYTES } from '../src/http/api/routes-ingest.ts';
import { LocalLog } from '../src/local/log.ts';
import {
  boundDeadLetter,
  DEAD_LETTER_PREFIX_BYTES,
  ORIGINAL_LENGTH_HEADER,
  ORIGINAL_SHA256_HEADER,
} from '../src/store/dead-letters.ts';
import { deadLetterRecord, episodeRecord } from '../src/store/outputs.ts';
import { singleBoxApi } from './support/single-box-api.ts';

// Single-box mode's dead letters (refused records in log.db) are bounded like a Kafka topic
// with retention: kept `storage.deadLetterRetention`, at most `storage.maxDeadLetters`, each
// value cut to a 4 KiB prefix with its original length and digest. Before, a 20 MB junk body
// POSTed to /api/ingest was kept whole, for ever.

const dir = mkdtempSync(join(tmpdir(), 'hub-dead-letters-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 22);
const TOKEN = 'token-0123456789abcdef';
let n = 0;
const path = () => join(dir, `log-${++n}.db`);
const dead = (value: string, code = 'RECORD_INVALID') =>
  deadLetterRecord({
    key: null,
    value: value,
    code: code,
    reason: 'a reason',
    source: { topic: 'http-ingest', partition: 0 },
  });

const api = (local: LocalLog) => singleBoxApi(local, TOKEN);

describe('dead letters in single-box mode', () => {
  it('a 15 MB junk record is kept as a 4 KiB prefix with its length and digest', async () => {
    const file = path();
    const local = new LocalLog(file);
    const junk = 'x'.repeat(15 * 1024 * 1024);
    const app = api(local);
    const res = await app.inject({
      method: 'POST',
      url: '/api/ingest',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ records: [junk] }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 0, invalid: [{ index: 0 }] });
    const [kept] = local.outputs('dlq');
    const original = JSON.stringify(junk);
    expect(kept?.value).toBe(original.slice(0, DEAD_LETTER_PREFIX_BYTES));
    expect(kept?.headers).toMatchObject({
      'iot-error-code': 'RECORD_INVALID',
      [ORIGINAL_LENGTH_HEADER]: String(Buffer.byteLength(original)),
      [ORIGINAL_SHA256_HEADER]: createHash('sha256').update(original).digest('hex'),
    });
    await app.close();
    local.close();
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
  });

  it('a body over the ingest limit is refused whole with 413 BODY_TOO_LARGE', async () => {
    const local = new LocalLog(path());
    const app = api(local);
    const res = await app.inject({
      method: 'POST',
      url: '/api/ingest',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ records: ['x'.repeat(MAX_INGEST_BYTES)] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('BODY_TOO_LARGE');
    expect(local.outputs('dlq')).toEqual([]);
    await app.close();
    local.close();
  });

  it('dead letters past deadLetterRetention are deleted; anomaly events are not', async () => {
    let now = T0;
    const local = new LocalLog(path(), { deadLetterRetention: '7d', now: () => now });
    await local.send('dlq', [dead('old')]);
    await local.send('anomalies', [
      episodeRecord({
        type: 'opened',
        time: T0,
        episode: {
          id: 'e1',
          ruleId: 'r',
          deviceId: 'dev-1',
          metric: 't',
          detector: 'range',
          severity: 'warning',
          start: T0,
          end: null,
          peakScore: 1,
          peakTime: T0,
          peakValue: 1,
        },
      }),
    ]);
    now = T0 + 6 * DAY;
    await local.send('dlq', [dead('newer')]);
    now = T0 + 7 * DAY + 1;
    local.prune('-1', now - 600_000);
    expect(local.outputs('dlq').map((m) => m.value)).toEqual(['newer']);
    expect(local.outputs('anomalies')).toHaveLength(1);
    expect(local.deadLettersDropped).toEqual({ retention: 1, cap: 0 });
    local.close();
  });

  it('at most maxDeadLetters are kept, the oldest go first, after every write', async () => {
    const file = path();
    const local = new LocalLog(file, { maxDeadLetters: 3 });
    await local.send('dlq', [dead('1'), dead('2')]);
    await local.send('dlq', [dead('3'), dead('4'), dead('5')]);
    expect(local.outputs('dlq').map((m) => m.value)).toEqual(['3', '4', '5']);
    expect(local.deadLettersDropped.cap).toBe(2);
    local.close();
    // The count survives a restart: one more drops one more.
    const again = new LocalLog(file, { maxDeadLetters: 3 });
    await again.send('dlq', [dead('6')]);
    expect(again.outputs('dlq').map((m) => m.value)).toEqual(['4', '5', '6']);
    again.close();
  });

  it('a log.db from before dead-letter retention: its dead letters are found and pruned', async () => {
    const file = path();
    const old = new Database(file);
    old.exec(`CREATE TABLE outputs (
      id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT, value TEXT,
      headers TEXT, written_at INTEGER NOT NULL)`);
    const insert = old.prepare(
      'INSERT INTO outputs (topic, value, headers, written_at) VALUES (?, ?, ?, ?)',
    );
    insert.run('dlq', 'junk', JSON.stringify({ 'iot-error-code': 'RECORD_INVALID' }), T0);
    insert.run('anomalies', '{}', JSON.stringify({ 'iot-episode-id': 'e1' }), T0);
    old.close();
    const local = new LocalLog(file, { now: () => T0 + 8 * DAY });
    expect(local.outputs('dlq')).toEqual([]);
    expect(local.outputs('anomalies')).toHaveLength(1);
    local.close();
  });
});

describe('boundDeadLetter', () => {
  it('leaves a small dead letter as it is', () => {
    const m = dead('{"v":1}');
    expect(boundDeadLetter(m)).toEqual(m);
  });

  it('cuts text at a character boundary and a Buffer at the byte', () => {
    const text = `${'a'.repeat(4095)}é${'b'.repeat(10)}`; // é is 2 bytes, at 4095..4096
    const cut = boundDeadLetter(dead(text));
    expect(cut.value).toBe('a'.repeat(4095));
    expect(cut.headers?.[ORIGINAL_LENGTH_HEADER]).toBe(String(Buffer.byteLength(text)));
    const bytes = Buffer.alloc(5000, 7);
    const m = boundDeadLetter({ ...dead(''), value: bytes });
    expect(m.value).toEqual(Buffer.alloc(4096, 7));
  });

  it('cuts a header value over 1 KiB (a long reason)', () => {
    const m = deadLetterRecord({
      key: null,
      value: 'x',
      code: 'RECORD_INVALID',
      reason: 'r'.repeat(5000),
      source: { topic: 'http-ingest', partition: 0 },
    });
    const reason = boundDeadLetter(m).headers?.['iot-error-reason'] as string;
    expect(reason.length).toBeLessThan(1100);
  });
});
