import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReadingRecord } from '@iot-stream/contracts';
import Database from 'better-sqlite3';
import type { Checkpoint, CheckpointStore } from '../ports.ts';
import { boundDeadLetter, isDeadLetter } from '../store/dead-letters.ts';
import type { OutputRecord } from '../store/outputs.ts';
import { retentionMs } from '../store/retention.ts';

export interface AppendResult {
  accepted: number;
  duplicates: number;
}

/** How long dead letters are kept, and how many at most (`storage` in the hub config). */
export interface LocalLogOptions {
  /** A duration (`7d`, `12h`, `INF`): older dead letters are deleted. Default 7d. */
  deadLetterRetention?: string;
  /** At most this many dead letters; the oldest go first. Default 100,000. */
  maxDeadLetters?: number;
  now?: () => number;
}

export interface LogEntry {
  offset: string;
  /** Absent for entries of other kinds (ticks older hubs wrote): skipped. */
  record?: ReadingRecord;
}

/**
 * Single-box mode's stand-in for the Kafka readings topic, checkpoint topic and output topics,
 * in one SQLite file (WAL, synchronous=FULL): the HTTP ingest endpoint appends records and
 * answers only after the commit, as Kafka answers after acks=all; the pipeline reads them in
 * offset order as one partition, checkpoints here, and what it covered is pruned. A record is
 * accepted once per (gatewayId, gatewaySeq): a gateway resending after a lost answer gets
 * "duplicate" back. Dead letters and anomaly events are kept in `outputs`; dead letters (the
 * messages with an `iot-error-code` header) are bounded like a Kafka topic with retention:
 * kept `deadLetterRetention`, at most `maxDeadLetters` of them, and each value cut to a 4 KiB
 * prefix with its original length and digest (dead-letters.ts).
 */
export class LocalLog implements CheckpointStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx: (records: readonly ReadingRecord[], now: number) => AppendResult;
  private listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly deadLetterKeepMs: number | undefined;
  private readonly maxDeadLetters: number;
  private deadLetters: number;
  /** Dead letters deleted: past their retention, or the oldest beyond the row cap. */
  readonly deadLettersDropped = { retention: 0, cap: 0 };

  constructor(path: string, options: LocalLogOptions = {}) {
    this.now = options.now ?? Date.now;
    this.deadLetterKeepMs = retentionMs(options.deadLetterRetention ?? '7d');
    this.maxDeadLetters = options.maxDeadLetters ?? 100_000;
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS log (
        offset INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        value TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS seen (
        gateway_id TEXT NOT NULL,
        gateway_seq INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (gateway_id, gateway_seq)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS seen_received_at ON seen (received_at);
      CREATE TABLE IF NOT EXISTS checkpoints (partition INTEGER PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outputs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT,
        value TEXT,
        headers TEXT,
        written_at INTEGER NOT NULL
      );
    `);
    this.addDeadLetterColumn();
    this.stmt = {
      insert: this.db.prepare<[string, string]>('INSERT INTO log (kind, value) VALUES (?, ?)'),
      seen: this.db.prepare<[string, number, number]>(
        'INSERT OR IGNORE INTO seen (gateway_id, gateway_seq, received_at) VALUES (?, ?, ?)',
      ),
      read: this.db.prepare<[number, number], { offset: number; kind: string; value: string }>(
        'SELECT offset, kind, value FROM log WHERE offset > ? ORDER BY offset LIMIT ?',
      ),
      start: this.db.prepare<[], { n: number | null }>('SELECT min(offset) AS n FROM log'),
      end: this.db.prepare<[], { n: number | null }>('SELECT max(offset) AS n FROM log'),
      prune: this.db.prepare<[number]>('DELETE FROM log WHERE offset <= ?'),
      pruneSeen: this.db.prepare<[number]>('DELETE FROM seen WHERE received_at < ?'),
      saveCheckpoint: this.db.prepare<[number, string]>(
        'INSERT INTO checkpoints (partition, value) VALUES (?, ?) ON CONFLICT (partition) DO UPDATE SET value = excluded.value',
      ),
      loadCheckpoint: this.db.prepare<[number], { value: string }>(
        'SELECT value FROM checkpoints WHERE partition = ?',
      ),
      output: this.db.prepare<[string, string | null, string | null, string | null, number]>(
        'INSERT INTO outputs (topic, key, value, headers, written_at) VALUES (?, ?, ?, ?, ?)',
      ),
      outputs: this.db.prepare<
        [string],
        { key: string | null; value: string | null; headers: string | null }
      >('SELECT key, value, headers FROM outputs WHERE topic = ? ORDER BY id'),
      deadLetter: this.db.prepare<[string, string | null, string | null, string | null, number]>(
        `INSERT INTO outputs (topic, key, value, headers, written_at, dead_letter)
         VALUES (?, ?, ?, ?, ?, 1)`,
      ),
      deadLetterCount: this.db.prepare<[], { n: number }>(
        'SELECT count(*) AS n FROM outputs WHERE dead_letter = 1',
      ),
      deadLettersBefore: this.db.prepare<[number]>(
        'DELETE FROM outputs WHERE dead_letter = 1 AND written_at < ?',
      ),
      oldestDeadLetters: this.db.prepare<[number]>(
        `DELETE FROM outputs WHERE id IN (
           SELECT id FROM outputs WHERE dead_letter = 1 ORDER BY written_at, id LIMIT ?)`,
      ),
    };
    this.deadLetters = this.stmt.deadLetterCount.get()?.n ?? 0;
    this.pruneDeadLetters();
    this.appendTx = this.db.transaction((records: readonly ReadingRecord[], now: number) => {
      let accepted = 0;
      for (const r of records) {
        if (this.stmt.seen.run(r.gatewayId, r.gatewaySeq, now).changes === 0) continue;
        this.stmt.insert.run('reading', JSON.stringify(r));
        accepted += 1;
      }
      return { accepted, duplicates: records.length - accepted };
    });
  }

  /** Appends the records not seen before, durably, in one transaction. */
  append(records: readonly ReadingRecord[], now = Date.now()): AppendResult {
    const result = this.appendTx(records, now);
    if (result.accepted > 0) this.wake();
    return result;
  }

  /** Up to `limit` entries after `offset`, in order. */
  read(after: string, limit: number): LogEntry[] {
    return this.stmt.read
      .all(Number(after), limit)
      .map((row) =>
        row.kind === 'reading'
          ? { offset: String(row.offset), record: JSON.parse(row.value) as ReadingRecord }
          : { offset: String(row.offset) },
      );
  }

  /** The oldest offset the log holds (the next one's when empty). */
  start(): string {
    const oldest = this.stmt.start.get()?.n;
    return oldest == null ? String(Number(this.end()) + 1) : String(oldest);
  }

  /** The newest offset ('-1' when empty). */
  end(): string {
    return String(this.stmt.end.get()?.n ?? -1);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Entries a checkpoint covers are no longer needed; dedup keys are kept `seenMs`; dead
   * letters past their retention go too.
   */
  prune(coveredOffset: string, seenBefore: number): void {
    this.stmt.prune.run(Number(coveredOffset));
    this.stmt.pruneSeen.run(seenBefore);
    this.pruneDeadLetters();
  }

  async save(partition: number, json: Buffer): Promise<void> {
    this.stmt.saveCheckpoint.run(partition, json.toString());
  }

  async load(partitions: readonly number[]): Promise<Map<number, Checkpoint>> {
    const out = new Map<number, Checkpoint>();
    for (const p of partitions) {
      const row = this.stmt.loadCheckpoint.get(p);
      if (row) out.set(p, JSON.parse(row.value) as Checkpoint);
    }
    return out;
  }

  /**
   * Keeps outputs under a name (as Kafka keeps them in a topic): dead letters (bounded, see the
   * class comment) and anomaly events, in `outputs`. See outputs.ts for the Outputs port.
   */
  async send(topic: string, messages: readonly OutputRecord[]): Promise<void> {
    if (messages.length === 0) return;
    const now = this.now();
    const text = (v: unknown) =>
      v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString() : String(v);
    this.db.transaction(() => {
      let dead = 0;
      for (const message of messages) {
        const isDead = isDeadLetter(message);
        const m = isDead ? boundDeadLetter(message) : message;
        (isDead ? this.stmt.deadLetter : this.stmt.output).run(
          topic,
          text(m.key),
          text(m.value),
          JSON.stringify(m.headers),
          now,
        );
        if (isDead) dead += 1;
      }
      this.deadLetters += dead;
      // The cap holds after every write: the oldest go first, within the same commit.
      const over = this.deadLetters - this.maxDeadLetters;
      if (over > 0) {
        const n = this.stmt.oldestDeadLetters.run(over).changes;
        this.deadLetters -= n;
        this.deadLettersDropped.cap += n;
      }
    })();
  }

  /** What was sent to `topic` (tests, and `iot-hub` tooling). */
  outputs(
    topic: string,
  ): { key: string | null; value: string | null; headers: Record<string, string> }[] {
    return this.stmt.outputs.all(topic).map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers ? (JSON.parse(r.headers) as Record<string, string>) : {},
    }));
  }

  close(): void {
    this.db.close();
  }

  /** Deletes dead letters older than `deadLetterRetention`. */
  private pruneDeadLetters(): void {
    if (this.deadLetterKeepMs === undefined) return;
    const n = this.stmt.deadLettersBefore.run(this.now() - this.deadLetterKeepMs).changes;
    this.deadLetters -= n;
    this.deadLettersDropped.retention += n;
  }

  /**
   * `outputs.dead_letter` (1: a dead letter) came with dead-letter retention; a file written
   * before has none: added, and the dead letters already there marked by their header.
   */
  private addDeadLetterColumn(): void {
    const columns = this.db.prepare('PRAGMA table_info(outputs)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'dead_letter'))
      this.db.transaction(() => {
        this.db.exec('ALTER TABLE outputs ADD COLUMN dead_letter INTEGER NOT NULL DEFAULT 0');
        this.db.exec(
          `UPDATE outputs SET dead_letter = 1
           WHERE json_extract(headers, '$."iot-error-code"') IS NOT NULL`,
        );
      })();
    this.db.exec(
      'CREATE INDEX IF NOT EXISTS outputs_dead_letters ON outputs (dead_letter, written_at)',
    );
  }

  private wake(): void {
    for (const l of this.listeners) l();
  }
}
