import type Database from 'better-sqlite3';
import { Code, OutboxError } from '../errors.ts';
import { rebuildQuarantine } from './scrub.ts';

/** SQL, or a step that needs code; runs inside the migration's transaction. */
export type Migration = string | ((db: Database.Database) => void);

/**
 * Numbered migrations; `user_version` records how many have run. Each runs in its own
 * transaction together with the version bump. Never edit a released migration: add one.
 */
export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     device_id TEXT NOT NULL,
     session INTEGER,
     seq INTEGER,
     time INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     metrics TEXT NOT NULL
   );
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at INTEGER NOT NULL,
     source TEXT NOT NULL,
     code TEXT NOT NULL,
     reason TEXT NOT NULL,
     raw BLOB NOT NULL
   );
   -- Recently accepted (device, session, seq) with a digest of the reading: a repeat with the
   -- same digest is a retransmission; a different digest after a 16-bit wrap is a new reading.
   CREATE TABLE seen (
     device_id TEXT NOT NULL,
     session INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     digest TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, session, seq)
   ) WITHOUT ROWID;
   CREATE INDEX seen_age ON seen (received_at);
   -- Readings dropped on purpose (cap policy drop-oldest, TTL), counted by reason.
   CREATE TABLE drops (
     reason TEXT PRIMARY KEY,
     count INTEGER NOT NULL
   );`,
  // 2: the last acknowledgement sent per serial device session, written before the ack is
  // sent, so a restarted gateway never acknowledges frames it did not handle [FP-6.3].
  `CREATE TABLE serial_acks (
     device_id TEXT NOT NULL,
     session INTEGER NOT NULL,
     cumulative INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (device_id, session)
   ) WITHOUT ROWID;`,
  // 3: the device's own stamp when the gateway replaced an impossible one (clock.policy:
  // restamp); NULL when the device's time was kept.
  'ALTER TABLE outbox ADD COLUMN device_time INTEGER;',
  // 4: quarantine rows from peers that never authenticated get their own cap
  // (mqtt.unauthenticated), so they never push out what devices sent; and refused logins, kept
  // before as whole CONNECT packets with the password, are scrubbed (scrub.ts).
  rebuildQuarantine,
];

export function migrate(db: Database.Database, firstSeq: () => number): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new OutboxError(
      Code.OUTBOX_TOO_NEW,
      `the outbox schema is version ${version}, newer than this gateway (${MIGRATIONS.length}); upgrade the gateway`,
    );
  }
  const pending = MIGRATIONS.slice(version);
  if (pending.length === 0) return;
  // What a migration rewrites or deletes is overwritten, not left behind in free space...
  const secureDelete = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  pending.forEach((step, i) => {
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      if (version + i === 0) seedSequence(db, firstSeq());
      db.pragma(`user_version = ${version + i + 1}`);
    })();
  });
  db.pragma(`secure_delete = ${secureDelete}`);
  // ...nor in old page images in the write-ahead log.
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/**
 * A new outbox starts its ids (the gateway sequence numbers) at a clock-derived value, so that
 * after an outbox is replaced (moved aside as corrupt, deleted by hand) the new ids still
 * exceed every id sent before, as long as the clock has not gone back and fewer than a
 * thousand readings per millisecond were stored on average.
 */
function seedSequence(db: Database.Database, first: number): void {
  db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(first - 1);
}
