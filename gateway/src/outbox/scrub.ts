import type Database from 'better-sqlite3';
import { Code } from '../errors.ts';
import { describeConnection, scrubStoredPackets } from '../sources/mqtt/evidence.ts';

const NOTE = 'scrubbed by outbox migration 4: credentials are never kept';
/** Free pages overwritten at most (64 MiB of 4 KiB pages); beyond that, VACUUM by hand. */
const MAX_WIPE_PAGES = 16_384;

/**
 * Outbox migration 4. Gateways before it quarantined the first bytes of a connection that
 * broke the protocol, and the start of an oversized packet, as they came: refused logins kept
 * their CONNECT packet, password and will payload included. Copies the quarantine into a new
 * table (with the `unauthenticated` column), those rows without their credential packets (a
 * protocol error becomes the JSON description newer gateways write), and drops the old one:
 * with `secure_delete` on (see `migrate`) its pages are zeroed as they are freed, rows deleted
 * long ago included. Free pages left by earlier runs are overwritten too. Runs inside the
 * migration's transaction.
 */
export function rebuildQuarantine(db: Database.Database): void {
  db.exec(`CREATE TABLE quarantine_v4 (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at INTEGER NOT NULL,
     source TEXT NOT NULL,
     code TEXT NOT NULL,
     reason TEXT NOT NULL,
     raw BLOB NOT NULL,
     -- 1: from a peer that never authenticated (a refused CONNECT, bytes before one)
     unauthenticated INTEGER NOT NULL DEFAULT 0
   )`);
  const page = db.prepare<[number], QuarantineRow & { id: number; received_at: number }>(
    'SELECT id, received_at, source, code, reason, raw FROM quarantine WHERE id > ? ORDER BY id LIMIT 500',
  );
  const insert = db.prepare<[number, number, string, string, string, Buffer]>(
    'INSERT INTO quarantine_v4 (id, received_at, source, code, reason, raw) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (let after = 0, rows = page.all(after); rows.length > 0; rows = page.all(after)) {
    for (const row of rows) {
      after = row.id;
      const kept = scrubRow(row) ?? row;
      insert.run(row.id, row.received_at, row.source, row.code, kept.reason, kept.raw);
    }
  }
  db.exec(`UPDATE sqlite_sequence SET seq = coalesce(
             (SELECT seq FROM sqlite_sequence WHERE name = 'quarantine'), seq)
           WHERE name = 'quarantine_v4';
           DROP TABLE quarantine;
           ALTER TABLE quarantine_v4 RENAME TO quarantine;
           CREATE INDEX quarantine_unauthenticated ON quarantine (unauthenticated);`);
  wipeFreePages(db);
}

interface QuarantineRow {
  source: string;
  code: string;
  reason: string;
  raw: Buffer;
}

/** Only connection-level rows could hold a CONNECT; their sources are `mqtt:<address>`. */
function scrubRow(row: QuarantineRow): { raw: Buffer; reason: string } | undefined {
  if (!row.source.startsWith('mqtt:')) return undefined;
  const remote = row.source.slice('mqtt:'.length);
  if (row.code === Code.MQTT_PROTOCOL_ERROR) {
    // These bytes are the start of a connection: its CONNECT came first.
    const parts = scrubStoredPackets(row.raw);
    return {
      raw: describeConnection({ remote, reason: row.reason, ...parts, note: NOTE }),
      reason: row.reason,
    };
  }
  // PACKET_TOO_LARGE. "declared NaN bytes" (the exact text the old gateway wrote for a
  // malformed length) kept a whole chunk from an arbitrary offset, which need not start at a
  // packet boundary: nothing in it can be told apart from a password, so none of it is kept.
  if (row.reason === 'declared NaN bytes') {
    return {
      raw: describeConnection({ remote, reason: row.reason, note: `${NOTE}; bytes not kept` }),
      reason: `${row.reason} (bytes removed by outbox migration 4)`,
    };
  }
  if (row.code !== Code.PACKET_TOO_LARGE) return undefined;
  const parts = scrubStoredPackets(row.raw);
  if (parts.removed.length === 0) return undefined;
  return {
    raw: parts.bytes,
    reason: `${row.reason} (removed by outbox migration 4: ${parts.removed.join('; ')})`,
  };
}

/**
 * Overwrites every free page with zeros: a blob as large as the free space takes all of it
 * (SQLite fills free pages before it grows the file), and dropping it frees them again.
 */
function wipeFreePages(db: Database.Database): void {
  const free = db.pragma('freelist_count', { simple: true }) as number;
  if (free === 0 || free > MAX_WIPE_PAGES) return;
  const size = db.pragma('page_size', { simple: true }) as number;
  db.exec('CREATE TABLE migration_wipe (b BLOB)');
  db.prepare('INSERT INTO migration_wipe (b) VALUES (zeroblob(?))').run(free * size);
  db.exec('DROP TABLE migration_wipe');
}
