import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { IotError } from '@iot-stream/contracts';
import Database from 'better-sqlite3';
import { Code } from '../errors.ts';
import { migrate } from './schema.ts';

export interface OpenedOutbox {
  db: Database.Database;
  /** Set when the file was corrupt: where it was moved and why. */
  recovered?: { movedTo: string; reason: string };
}

export interface OpenOutboxOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  now: () => number;
}

/**
 * Opens (or creates) the outbox file. A file that SQLite cannot read or that fails
 * `PRAGMA quick_check` is moved aside (with its -wal and -shm files) and a fresh outbox is
 * opened, so a corrupt buffer never stops the gateway from starting; the caller logs it.
 */
export function openOutbox(options: OpenOutboxOptions): OpenedOutbox {
  mkdirSync(dirname(options.path), { recursive: true });
  try {
    return { db: openChecked(options) };
  } catch (err) {
    if (!isCorruption(err)) throw err;
    const movedTo = `${options.path}.corrupt-${new Date(options.now()).toISOString().replace(/[:.]/g, '-')}`;
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(options.path + suffix)) renameSync(options.path + suffix, movedTo + suffix);
    }
    return { db: openChecked(options), recovered: { movedTo, reason: (err as Error).message } };
  }
}

class CorruptOutbox extends Error {
  readonly code = 'SQLITE_CORRUPT';
}

/** Written by a clean close, removed at open: its absence means the last run did not end cleanly. */
export const cleanMarker = (path: string) => `${path}.clean`;

function openChecked(options: OpenOutboxOptions): Database.Database {
  // quick_check reads the whole file (seconds for a big backlog on an SD card): run it only
  // when the previous run did not close cleanly (a crash or a power cut), when it matters.
  const wasClean = existsSync(cleanMarker(options.path));
  rmSync(cleanMarker(options.path), { force: true });
  const db = openDatabase(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('busy_timeout = 5000');
    // 2 MiB of page cache: better-sqlite3 builds SQLite with 16 MiB, which a queue that appends
    // at one end and deletes at the other fills with pages it never reads again (heaptrack: 17 MB
    // of the gateway's peak under the benchmark's load; with 2 MiB, 15-20 MB less RSS, no slower).
    db.pragma('cache_size = -2000');
    if (!wasClean) {
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CorruptOutbox(`quick_check: ${String(check)}`);
    }
    migrate(db, () => options.now() * 1000);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** better-sqlite3 loads its binary at the first open: say plainly when there is none for this CPU. */
function openDatabase(path: string): Database.Database {
  try {
    return new Database(path);
  } catch (err) {
    throw nativeAddonMissing(err) ?? err;
  }
}

export function nativeAddonMissing(err: unknown): IotError | undefined {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (code !== 'MODULE_NOT_FOUND' || !String(message).includes('better_sqlite3.node')) return;
  return new IotError(
    Code.NATIVE_ADDON_MISSING,
    `better-sqlite3 (the outbox's SQLite) has no prebuilt binary for ${process.platform}-${process.arch} ` +
      '(they exist for x64 and arm64 on Linux, macOS and Windows): compile it in its folder with ' +
      '`npx node-gyp rebuild --release` (needs python3, make and g++; docs/raspberry-pi.md)',
    { cause: err },
  );
}

function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
  );
}
