import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { IncomingReading } from '../src/ports.ts';
import { SqliteOutbox } from '../src/sqlite-outbox.ts';

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
      code: 'PAYLOAD_NOT_JSON',
      reason: 'bad',
      raw: Buffer.from([1, 2, 3]),
      receivedAt: 5,
    });
    expect(outbox.stats().quarantined).toBe(1);
    outbox.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT source, code, reason, raw FROM quarantine').get()).toEqual({
      source: 'mqtt:x',
      code: 'PAYLOAD_NOT_JSON',
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
    expect(db.pragma('user_version', { simple: true })).toBe(1);
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
