import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { OutboxError, outboxWriteFailed } from './errors.ts';
import type {
  AppendOutcome,
  IncomingReading,
  Outbox,
  OutboxRow,
  OutboxStats,
  QuarantineItem,
} from './ports.ts';

export interface SqliteOutboxOptions {
  path: string;
  /** FULL survives power loss; NORMAL only a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Group commit: how long to gather writes into one transaction. */
  batchWindowMs?: number;
  maxBatch?: number;
}

/** Numbered migrations; `user_version` records how many have run. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     device_id TEXT NOT NULL,
     session INTEGER,
     seq INTEGER,
     time INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     metrics TEXT NOT NULL
   );
   CREATE UNIQUE INDEX outbox_dedup ON outbox (device_id, ifnull(session, -1), seq)
     WHERE seq IS NOT NULL;
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     received_at INTEGER NOT NULL,
     source TEXT NOT NULL,
     code TEXT NOT NULL,
     reason TEXT NOT NULL,
     raw BLOB NOT NULL
   );`,
];

type Op =
  | {
      kind: 'append';
      reading: IncomingReading;
      done: (r: AppendOutcome) => void;
      fail: (e: Error) => void;
    }
  | { kind: 'quarantine'; item: QuarantineItem; done: () => void; fail: (e: Error) => void };

interface RowFromDb {
  id: number;
  device_id: string;
  session: number | null;
  seq: number | null;
  time: number;
  received_at: number;
  metrics: string;
}

/**
 * The gateway's durable outbox in SQLite (WAL). Writes are gathered for `batchWindowMs` and
 * committed in one transaction (group commit), so `synchronous=FULL` costs one fsync per
 * batch rather than per reading. Promises resolve only after the commit.
 */
export class SqliteOutbox implements Outbox {
  private readonly db: Database.Database;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private queue: Op[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private backlog: number;
  private quarantined: number;
  private readonly stmt: {
    insert: Database.Statement;
    quarantine: Database.Statement;
    peek: Database.Statement<[number], RowFromDb>;
    remove: Database.Statement<[number]>;
    oldest: Database.Statement<[], { received_at: number }>;
  };
  private readonly commit: (ops: Op[]) => Array<AppendOutcome | undefined>;

  constructor(options: SqliteOutboxOptions) {
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.batchWindowMs = options.batchWindowMs ?? 2;
    this.maxBatch = options.maxBatch ?? 2000;
    this.stmt = {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO outbox (device_id, session, seq, time, received_at, metrics)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      quarantine: this.db.prepare(
        'INSERT INTO quarantine (received_at, source, code, reason, raw) VALUES (?, ?, ?, ?, ?)',
      ),
      peek: this.db.prepare('SELECT * FROM outbox ORDER BY id LIMIT ?'),
      remove: this.db.prepare('DELETE FROM outbox WHERE id = ?'),
      oldest: this.db.prepare('SELECT received_at FROM outbox ORDER BY id LIMIT 1'),
    };
    this.backlog = (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    this.quarantined = (
      this.db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number }
    ).n;
    this.commit = this.db.transaction((ops: Op[]) => ops.map((op) => this.apply(op)));
  }

  append(reading: IncomingReading): Promise<AppendOutcome> {
    return new Promise((done, fail) => this.enqueue({ kind: 'append', reading, done, fail }));
  }

  quarantine(item: QuarantineItem): Promise<void> {
    return new Promise((done, fail) => this.enqueue({ kind: 'quarantine', item, done, fail }));
  }

  peek(limit: number): OutboxRow[] {
    return this.stmt.peek.all(limit).map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      session: r.session ?? undefined,
      seq: r.seq ?? undefined,
      time: r.time,
      receivedAt: r.received_at,
      metrics: JSON.parse(r.metrics),
    }));
  }

  remove(ids: readonly number[]): void {
    const removed = this.db.transaction((list: readonly number[]) => {
      let n = 0;
      for (const id of list) n += this.stmt.remove.run(id).changes;
      return n;
    })(ids);
    this.backlog -= removed;
  }

  stats(): OutboxStats {
    return {
      backlogRows: this.backlog,
      oldestReceivedAt: this.stmt.oldest.get()?.received_at ?? null,
      quarantined: this.quarantined,
    };
  }

  close(): void {
    this.flush();
    this.db.close();
  }

  private enqueue(op: Op): void {
    if (!this.db.open) {
      op.fail(new OutboxError('OUTBOX_CLOSED', 'the outbox is closed', { retriable: true }));
      return;
    }
    this.queue.push(op);
    if (this.queue.length >= this.maxBatch) {
      this.flush();
    } else if (this.timer === null) {
      this.timer =
        this.batchWindowMs > 0
          ? setTimeout(() => this.flush(), this.batchWindowMs)
          : setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = null;
    }
    const ops = this.queue;
    this.queue = [];
    if (ops.length === 0) return;
    let outcomes: Array<AppendOutcome | undefined>;
    try {
      outcomes = this.commit(ops);
    } catch (err) {
      const error = outboxWriteFailed(err);
      for (const op of ops) op.fail(error);
      return;
    }
    ops.forEach((op, i) => {
      if (op.kind === 'append') {
        const outcome = outcomes[i] as AppendOutcome;
        if (outcome === 'stored') this.backlog += 1;
        op.done(outcome);
      } else {
        this.quarantined += 1;
        op.done();
      }
    });
  }

  private apply(op: Op): AppendOutcome | undefined {
    if (op.kind === 'quarantine') {
      const q = op.item;
      this.stmt.quarantine.run(q.receivedAt, q.source, q.code, q.reason, Buffer.from(q.raw));
      return undefined;
    }
    const r = op.reading;
    const info = this.stmt.insert.run(
      r.deviceId,
      r.session ?? null,
      r.seq ?? null,
      r.time,
      r.receivedAt,
      JSON.stringify(r.metrics),
    );
    return info.changes === 1 ? 'stored' : 'duplicate';
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new OutboxError(
      'OUTBOX_TOO_NEW',
      `the outbox schema is version ${version}, newer than this gateway (${MIGRATIONS.length}); upgrade the gateway`,
    );
  }
  MIGRATIONS.slice(version).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + i + 1}`);
    })();
  });
}
