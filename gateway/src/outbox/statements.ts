import type Database from 'better-sqlite3';

export interface RowFromDb {
  id: number;
  device_id: string;
  session: number | null;
  seq: number | null;
  time: number;
  received_at: number;
  metrics: string;
  device_time: number | null;
}

/** Every statement the outbox runs, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<
      [string, number | null, number | null, number, number, string, number | null]
    >(
      'INSERT INTO outbox (device_id, session, seq, time, received_at, metrics, device_time) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    quarantine: db.prepare<[number, string, string, string, Buffer, number]>(
      'INSERT INTO quarantine (received_at, source, code, reason, raw, unauthenticated) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    peek: db.prepare<[number], RowFromDb>('SELECT * FROM outbox ORDER BY id LIMIT ?'),
    remove: db.prepare<[number]>('DELETE FROM outbox WHERE id = ?'),
    oldest: db.prepare<[], { received_at: number }>(
      'SELECT received_at FROM outbox ORDER BY id LIMIT 1',
    ),
    countOutbox: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
    countQuarantine: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM quarantine'),
    countUnauthenticated: db.prepare<[], { n: number }>(
      'SELECT count(*) AS n FROM quarantine WHERE unauthenticated = 1',
    ),
    quarantineByCode: db.prepare<[], { code: string; n: number }>(
      'SELECT code, count(*) AS n FROM quarantine GROUP BY code',
    ),
    dropOldest: db.prepare<[number]>(
      'DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)',
    ),
    // Oldest first, a bounded chunk at a time, so the scan stops early on a big backlog.
    dropExpired: db.prepare<[number]>(
      'DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 10000) AND received_at < ?',
    ),
    dropOldestQuarantine: db.prepare<[number]>(
      'DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id LIMIT ?)',
    ),
    dropOldestUnauthenticated: db.prepare<[number]>(
      'DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE unauthenticated = 1 ORDER BY id LIMIT ?)',
    ),
    seenGet: db.prepare<[string, number, number], { digest: string }>(
      'SELECT digest FROM seen WHERE device_id = ? AND session = ? AND seq = ?',
    ),
    seenUpsert: db.prepare<[string, number, number, string, number]>(
      `INSERT INTO seen (device_id, session, seq, digest, received_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id, session, seq) DO UPDATE
       SET digest = excluded.digest, received_at = excluded.received_at
       WHERE seen.digest <> excluded.digest`,
    ),
    seenPrune: db.prepare<[number]>('DELETE FROM seen WHERE received_at < ?'),
    ackGet: db.prepare<[string, number], { cumulative: number }>(
      'SELECT cumulative FROM serial_acks WHERE device_id = ? AND session = ?',
    ),
    ackPut: db.prepare<[string, number, number, number]>(
      'INSERT OR REPLACE INTO serial_acks (device_id, session, cumulative, updated_at) VALUES (?, ?, ?, ?)',
    ),
    drops: db.prepare<[], { reason: string; count: number }>('SELECT reason, count FROM drops'),
    countDrop: db.prepare<[{ reason: string; n: number }]>(
      'INSERT INTO drops (reason, count) VALUES (@reason, @n) ON CONFLICT (reason) DO UPDATE SET count = count + @n',
    ),
  };
}

export type OutboxStatements = ReturnType<typeof prepareStatements>;
