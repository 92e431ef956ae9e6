import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.ts';

/**
 * Numbered migrations; `user_version` records how many have run. Each runs in its own
 * transaction together with the version bump. Never edit a released migration: add one.
 *
 * The model is InfluxDB's: a series is (retention policy, measurement, tag set), a point is
 * (series, time) with a set of fields, and writing a point that exists merges its fields
 * (new values win, fields the new write lacks are kept), so a replay leaves the file as it was.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE series (
     id INTEGER PRIMARY KEY,
     rp TEXT NOT NULL,           -- retention policy: 'raw' or 'long' (influx-points.ts)
     measurement TEXT NOT NULL,
     tags TEXT NOT NULL,         -- JSON object, keys sorted, empty values left out
     device TEXT,                -- tags.device and tags.metric, for the REST API's queries
     metric TEXT,
     UNIQUE (rp, measurement, tags)
   );
   CREATE INDEX series_device ON series (measurement, device);
   CREATE TABLE points (
     series_id INTEGER NOT NULL,
     time INTEGER NOT NULL,      -- epoch ms, from the data
     value REAL,                 -- the field "value" when a number (readings), typed for the queries
     fields TEXT NOT NULL,       -- JSON object of the other fields; never a null
     PRIMARY KEY (series_id, time)
   ) WITHOUT ROWID;`,
];

export interface OpenOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}

/** Opens (or creates) the store file: WAL, the given `synchronous`, migrated. */
export function openStore(options: OpenOptions): Database.Database {
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_TOO_NEW',
      `the store schema is version ${version}, newer than this hub (${MIGRATIONS.length}); upgrade the hub`,
    );
  }
  MIGRATIONS.slice(version).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + i + 1}`);
    })();
  });
}
