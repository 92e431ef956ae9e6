import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord } from '@iot-stream/contracts';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanMarker, nativeAddonMissing } from '../src/outbox/file.ts';
import { MIGRATIONS } from '../src/outbox/schema.ts';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { IncomingReading } from '../src/ports.ts';
import { recordOf } from '../src/uplink/record.ts';

const tempPath = () => join(mkdtempSync(join(tmpdir(), 'outbox-')), 'outbox.sqlite');
const reading = (seq: number, deviceId = 'dev-1', session = 1): IncomingReading => ({
  deviceId,
  session,
  seq,
  time: 1000 + seq,
  receivedAt: 2000 + seq,
  metrics: { t: { value: seq / 10, unit: 'Cel' } },
});

describe('SqliteOutbox', () => {
  it('commits many appends in one group and returns rows oldest first', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), batchWindowMs: 5 });
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) => outbox.append(reading(i))),
    );
    expect(outcomes.every((o) => o === 'stored')).toBe(true);
    const rows = outbox.peek(1000);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(rows[0]).toMatchObject({
      deviceId: 'dev-1',
      session: 1,
      time: 1000,
      metrics: { t: { value: 0, unit: 'Cel' } },
    });
    expect(outbox.stats()).toMatchObject({ backlogRows: 100, oldestReceivedAt: 2000 });
    outbox.close();
  });

  it('reports a repeated (device, session, seq) as a duplicate while it is buffered', async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    expect(await outbox.append(reading(5))).toBe('stored');
    expect(await outbox.append(reading(5))).toBe('duplicate');
    expect(await outbox.append(reading(5, 'dev-2'))).toBe('stored');
    expect(await outbox.append(reading(5, 'dev-1', 2))).toBe('stored');
    expect(outbox.stats().backlogRows).toBe(3);
    outbox.close();
  });

  it('gives strictly increasing ids that are never reused after removal', async () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    await outbox.append(reading(1));
    await outbox.append(reading(2));
    const first = outbox.peek(10).map((r) => r.id);
    outbox.remove(first);
    expect(outbox.stats().backlogRows).toBe(0);
    outbox.close();
    const reopened = new SqliteOutbox({ path });
    await reopened.append(reading(3));
    const [row] = reopened.peek(10);
    expect(row?.id).toBeGreaterThan(Math.max(...first));
    reopened.close();
  });

  it('keeps committed rows across a reopen (what a restart sees)', async () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    await Promise.all([1, 2, 3].map((s) => outbox.append(reading(s))));
    outbox.close();
    const reopened = new SqliteOutbox({ path });
    expect(reopened.stats().backlogRows).toBe(3);
    expect(reopened.peek(10).map((r) => r.seq)).toEqual([1, 2, 3]);
    reopened.close();
  });

  it('keeps quarantined input with its reason and raw bytes', async () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    await outbox.quarantine({
      source: 'mqtt:x',
      code: 'JSON_INVALID',
      reason: 'bad',
      raw: Buffer.from([1, 2, 3]),
      receivedAt: 5,
    });
    expect(outbox.stats().quarantined).toBe(1);
    outbox.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT source, code, reason, raw FROM quarantine').get()).toEqual({
      source: 'mqtt:x',
      code: 'JSON_INVALID',
      reason: 'bad',
      raw: Buffer.from([1, 2, 3]),
    });
    db.close();
  });

  it('uses WAL and synchronous=FULL by default', () => {
    const path = tempPath();
    new SqliteOutbox({ path }).close();
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it('refuses an outbox written by a newer gateway', () => {
    const path = tempPath();
    new SqliteOutbox({ path }).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteOutbox({ path })).toThrow(
      expect.objectContaining({ code: 'OUTBOX_TOO_NEW' }),
    );
  });

  it('rejects writes after close instead of losing them silently', async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    outbox.close();
    await expect(outbox.append(reading(1))).rejects.toMatchObject({ code: 'OUTBOX_CLOSED' });
  });
});

describe('SqliteOutbox: duplicates, caps, TTL and recovery', () => {
  it('remembers (device, session, seq) across a restart, and tells a 16-bit wrap from a resend', async () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    expect(await outbox.append(reading(7))).toBe('stored');
    outbox.remove(outbox.peek(10).map((r) => r.id)); // forwarded and deleted
    outbox.close();
    const reopened = new SqliteOutbox({ path });
    expect(await reopened.append(reading(7))).toBe('duplicate');
    // Same seq, different content: the sequence wrapped, this is a new reading.
    expect(await reopened.append({ ...reading(7), time: 999_999 })).toBe('stored');
    reopened.close();
  });

  it('forgets sequence numbers after the dedup window', async () => {
    let now = 1_000_000;
    const outbox = new SqliteOutbox({ path: tempPath(), dedupWindowMs: 10_000, now: () => now });
    expect(await outbox.append(reading(1))).toBe('stored');
    now += 20_000;
    expect(await outbox.append(reading(1))).toBe('stored');
    outbox.close();
  });

  it('rejects new readings when full under the default policy, and accepts again once drained', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), maxRows: 3 });
    await Promise.all([1, 2, 3].map((s) => outbox.append(reading(s))));
    await expect(outbox.append(reading(4))).rejects.toMatchObject({
      code: 'OUTBOX_FULL',
      retriable: true,
    });
    expect(outbox.stats().backlogRows).toBe(3);
    outbox.remove(outbox.peek(1).map((r) => r.id));
    expect(await outbox.append(reading(4))).toBe('stored');
    outbox.close();
  });

  it('drops the oldest, counted, under drop-oldest', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), maxRows: 3, whenFull: 'drop-oldest' });
    for (const s of [1, 2, 3, 4, 5]) await outbox.append(reading(s));
    expect(outbox.peek(10).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(outbox.stats()).toMatchObject({ backlogRows: 3, drops: { full: 2 } });
    outbox.close();
  });

  it('caps by bytes too', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), maxBytes: 64 * 1024 });
    const big = { t: { value: 1, unit: 'x'.repeat(30) } };
    let rejected = 0;
    for (let s = 0; s < 3000 && rejected === 0; s += 1) {
      await outbox.append({ ...reading(s), seq: undefined, metrics: big }).catch(() => {
        rejected += 1;
      });
    }
    expect(rejected).toBe(1);
    expect(outbox.stats().backlogBytes).toBeGreaterThanOrEqual(64 * 1024);
    outbox.close();
  });

  it('drops readings past their TTL and counts them', async () => {
    let now = 10_000_000;
    const outbox = new SqliteOutbox({ path: tempPath(), ttlMs: 60_000, now: () => now });
    await outbox.append({ ...reading(1), receivedAt: now });
    now += 120_000;
    await outbox.append({ ...reading(2), receivedAt: now });
    expect(outbox.peek(10).map((r) => r.seq)).toEqual([2]);
    expect(outbox.stats().drops).toEqual({ ttl: 1 });
    outbox.close();
  });

  it('caps the quarantine, dropping the oldest and counting them', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), maxQuarantineRows: 2 });
    for (let i = 0; i < 5; i += 1) {
      await outbox.quarantine({
        source: 's',
        code: 'X',
        reason: 'r',
        raw: Buffer.from([i]),
        receivedAt: i,
      });
    }
    expect(outbox.stats()).toMatchObject({ quarantined: 2, drops: { 'quarantine-cap': 3 } });
    outbox.close();
  });

  it('starts gateway sequence numbers from the clock, so a replaced outbox never reuses one', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), now: () => 1_763_787_600_000 });
    await outbox.append(reading(1));
    expect(outbox.peek(1)[0]?.id).toBe(1_763_787_600_000_000);
    outbox.close();
  });

  it('moves a corrupt file aside and starts on a fresh one', async () => {
    const path = tempPath();
    writeFileSync(path, Buffer.alloc(8192, 0x5a)); // not a database at all
    const outbox = new SqliteOutbox({ path });
    expect(outbox.recovered?.movedTo).toMatch(/outbox\.sqlite\.corrupt-/);
    expect(readFileSync(outbox.recovered?.movedTo as string)).toEqual(Buffer.alloc(8192, 0x5a));
    expect(await outbox.append(reading(1))).toBe('stored');
    expect(outbox.integrityCheck()).toBe('ok');
    outbox.close();
  });

  it('moves aside a database whose pages are damaged', async () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    await Promise.all(
      Array.from({ length: 2000 }, (_, s) => outbox.append({ ...reading(s), seq: undefined })),
    );
    outbox.close();
    rmSync(cleanMarker(path)); // as after a crash or a power cut
    const bytes = readFileSync(path);
    bytes.fill(0xff, 4096 * 2, 4096 * 6); // wreck a few b-tree pages
    writeFileSync(path, bytes);
    const reopened = new SqliteOutbox({ path });
    expect(reopened.recovered).toBeDefined();
    expect(reopened.stats().backlogRows).toBe(0);
    reopened.close();
  });
});

describe('SqliteOutbox migrations', () => {
  it('upgrades a version-1 outbox in place, keeping its rows', async () => {
    const path = tempPath();
    const v1 = new Database(path);
    v1.exec(MIGRATIONS[0] as string);
    v1.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', 41)").run();
    v1.prepare(
      'INSERT INTO outbox (device_id, session, seq, time, received_at, metrics) VALUES (?, ?, ?, ?, ?, ?)',
    ).run('d', 1, 1, 5, 6, '{"t":{"value":1}}');
    v1.pragma('user_version = 1');
    v1.close();
    const outbox = new SqliteOutbox({ path });
    expect(outbox.peek(10)).toEqual([expect.objectContaining({ id: 42, deviceId: 'd', seq: 1 })]);
    expect(outbox.peek(10)[0]).not.toHaveProperty('deviceTime');
    outbox.saveAck('d', 1, 7);
    expect(outbox.loadAck('d', 1)).toBe(7);
    outbox.close();
  });
});

describe('SqliteOutbox: restamped readings', () => {
  it("carries the device's own stamp through to the record, and only when there is one", async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    const T = 1_763_787_600_000;
    await outbox.append({ ...reading(1), time: T, receivedAt: T, deviceTime: T + 31_536_000_000 });
    await outbox.append({ ...reading(2), time: T, receivedAt: T });
    const [restamped, kept] = outbox.peek(10).map((row) => recordOf(row, 'gw-1', undefined));
    expect(restamped).toMatchObject({ time: T, deviceTime: T + 31_536_000_000 });
    expect(kept).not.toHaveProperty('deviceTime');
    expect(checkRecord(restamped).ok).toBe(true);
    expect(checkRecord(kept).ok).toBe(true);
    outbox.close();
  });

  it("recognises a restamped resend by the device's stamp, not the gateway's", async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    const sent = { ...reading(3), deviceTime: 5 };
    expect(await outbox.append({ ...sent, time: 1_000_000, receivedAt: 1_000_000 })).toBe('stored');
    expect(await outbox.append({ ...sent, time: 2_000_000, receivedAt: 2_000_000 })).toBe(
      'duplicate',
    );
    outbox.close();
  });
});

describe('SqliteOutbox start-up check', () => {
  it('marks a clean close, and the next open consumes the mark', () => {
    const path = tempPath();
    const outbox = new SqliteOutbox({ path });
    expect(existsSync(cleanMarker(path))).toBe(false);
    outbox.close();
    expect(existsSync(cleanMarker(path))).toBe(true);
    const again = new SqliteOutbox({ path });
    expect(existsSync(cleanMarker(path))).toBe(false); // a crash from now on leaves no mark
    again.close();
  });
});

describe('an outbox on a CPU without a better-sqlite3 binary', () => {
  it('says which binary is missing and how to compile it, with a stable code', () => {
    const err = Object.assign(
      new Error(
        "Cannot find module '/x/node_modules/better-sqlite3/build/Release/better_sqlite3.node'",
      ),
      { code: 'MODULE_NOT_FOUND' },
    );
    const explained = nativeAddonMissing(err);
    expect(explained?.code).toBe('NATIVE_ADDON_MISSING');
    expect(explained?.message).toMatch(/no prebuilt binary for linux-.*node-gyp rebuild --release/);
    expect(explained?.cause).toBe(err);
    expect(
      nativeAddonMissing(Object.assign(new Error('other'), { code: 'MODULE_NOT_FOUND' })),
    ).toBe(undefined);
    expect(nativeAddonMissing(new Error('SQLITE_CANTOPEN'))).toBe(undefined);
  });
});
