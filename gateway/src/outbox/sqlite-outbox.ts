import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { Code, Drop, type DropReason, OutboxError, outboxWriteFailed } from '../errors.ts';
import type {
  AckStore,
  AppendOutcome,
  IncomingReading,
  Outbox,
  OutboxRow,
  OutboxStats,
  QuarantineItem,
} from '../ports.ts';
import { cleanMarker, openOutbox } from './file.ts';
import { OutboxQuarantine } from './quarantine.ts';
import { type OutboxStatements, prepareStatements, type RowFromDb } from './statements.ts';

export interface SqliteOutboxOptions {
  path: string;
  /** FULL survives power loss; NORMAL only a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Group commit: how long to gather writes into one transaction. */
  batchWindowMs?: number;
  maxBatch?: number;
  /** Hard cap on buffered readings (0 = none). */
  maxRows?: number;
  /** Hard cap on the bytes the file holds in use (0 = none). */
  maxBytes?: number;
  /** When full: `reject` new readings (stop acknowledging) or `drop-oldest`. */
  whenFull?: 'reject' | 'drop-oldest';
  /** Readings older than this (by receive time) are dropped and counted (0 = keep forever). */
  ttlMs?: number;
  /** How long a (device, session, seq), or the digest of a reading without seq, is remembered. */
  dedupWindowMs?: number;
  /** Quarantine rows kept at most; the oldest beyond that are dropped and counted. */
  maxQuarantineRows?: number;
  /**
   * Of those, rows from peers that never authenticated, at most (mqtt.unauthenticated): the
   * oldest of them are dropped (`quarantine-unauthenticated-cap`). They only ever push out each
   * other, never what devices sent.
   */
  maxUnauthenticatedQuarantineRows?: number;
  now?: () => number;
}

/** `no-room`: the outbox is at its cap under `whenFull: reject`. */
type Outcome = AppendOutcome | 'no-room' | undefined;
type Op =
  | {
      kind: 'append';
      reading: IncomingReading;
      done: (r: AppendOutcome) => void;
      fail: (e: Error) => void;
    }
  | { kind: 'quarantine'; item: QuarantineItem; done: () => void; fail: (e: Error) => void };

const MAINTENANCE_EVERY_MS = 1000;

/**
 * The gateway's durable outbox in SQLite (WAL). Writes are gathered for `batchWindowMs` and
 * committed in one transaction (group commit), so `synchronous=FULL` costs one fsync per
 * batch rather than per reading. Promises resolve only after the commit; a failed commit
 * (disk full, I/O error) or a full outbox under `reject` rejects them, so nothing that was not
 * stored is ever acknowledged. The same file keeps the serial links' acknowledgements
 * (AckStore), each written at once in its own transaction.
 */
export class SqliteOutbox implements Outbox, AckStore {
  /** Set when the file was corrupt at start-up and moved aside. */
  readonly recovered: { movedTo: string; reason: string } | undefined;
  /** The last commit's error, cleared by the next successful commit: readiness reads it. */
  lastWriteError: string | undefined;
  private readonly db: Database.Database;
  private readonly stmt: OutboxStatements;
  private readonly options: Required<Omit<SqliteOutboxOptions, 'path' | 'synchronous'>>;
  private queue: Op[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private backlog: number;
  private readonly quarantined: OutboxQuarantine;
  private lastMaintenance = 0;
  private readonly commit: (ops: Op[]) => Outcome[];

  private readonly path: string;

  constructor(options: SqliteOutboxOptions) {
    this.path = options.path;
    this.options = {
      batchWindowMs: 2,
      maxBatch: 2000,
      maxRows: 0,
      maxBytes: 0,
      whenFull: 'reject',
      ttlMs: 0,
      dedupWindowMs: 600_000,
      maxQuarantineRows: 100_000,
      maxUnauthenticatedQuarantineRows: 1000,
      now: Date.now,
      ...stripUndefined(options),
    };
    const opened = openOutbox({
      path: options.path,
      synchronous: options.synchronous ?? 'FULL',
      now: this.options.now,
    });
    this.db = opened.db;
    this.recovered = opened.recovered;
    this.stmt = prepareStatements(this.db);
    this.backlog = this.stmt.countOutbox.get()?.n ?? 0;
    this.quarantined = new OutboxQuarantine(
      this.stmt,
      {
        maxRows: this.options.maxQuarantineRows,
        maxUnauthenticatedRows: this.options.maxUnauthenticatedQuarantineRows,
      },
      (reason, n) => this.countDrops(reason, n),
    );
    this.commit = this.db.transaction((ops: Op[]) => {
      this.maintain();
      const usedBytes = this.usedBytes();
      return ops.map((op) => this.apply(op, usedBytes));
    });
  }

  append(reading: IncomingReading): Promise<AppendOutcome> {
    return new Promise((done, fail) => this.enqueue({ kind: 'append', reading, done, fail }));
  }

  quarantine(item: QuarantineItem): Promise<void> {
    return new Promise((done, fail) => this.enqueue({ kind: 'quarantine', item, done, fail }));
  }

  peek(limit: number): OutboxRow[] {
    return this.stmt.peek.all(limit).map(toRow);
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
    const drops: Record<string, number> = {};
    for (const d of this.stmt.drops.all()) drops[d.reason] = d.count;
    return {
      backlogRows: this.backlog,
      backlogBytes: this.usedBytes(),
      oldestReceivedAt: this.stmt.oldest.get()?.received_at ?? null,
      quarantined: this.quarantined.rows,
      quarantinedByCode: this.quarantined.byCode(),
      drops,
    };
  }

  /** The last cumulative acknowledgement sent to a serial device session, if any. */
  loadAck(deviceId: string, session: number): number | undefined {
    return this.stmt.ackGet.get(deviceId, session)?.cumulative;
  }

  /** Records an acknowledgement durably, before it is sent (a synchronous commit). */
  saveAck(deviceId: string, session: number, cumulative: number): void {
    this.stmt.ackPut.run(deviceId, session, cumulative, this.options.now());
  }

  /** Runs SQLite's full integrity check (slow on a big file; for tests and diagnostics). */
  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
    writeFileSync(cleanMarker(this.path), `${new Date(this.options.now()).toISOString()}\n`);
  }

  private enqueue(op: Op): void {
    if (!this.db.open) {
      op.fail(new OutboxError(Code.OUTBOX_CLOSED, 'the outbox is closed', { retriable: true }));
      return;
    }
    this.queue.push(op);
    if (this.queue.length >= this.options.maxBatch) {
      this.flush();
    } else if (this.timer === null) {
      this.timer =
        this.options.batchWindowMs > 0
          ? setTimeout(() => this.flush(), this.options.batchWindowMs)
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
    let outcomes: Outcome[];
    const backlog = this.backlog;
    const restoreQuarantine = this.quarantined.save();
    try {
      outcomes = this.commit(ops);
    } catch (err) {
      // The transaction rolled back: so do the counters.
      this.backlog = backlog;
      restoreQuarantine();
      const error = outboxWriteFailed(err);
      this.lastWriteError = error.message;
      for (const op of ops) op.fail(error);
      return;
    }
    this.lastWriteError = undefined;
    ops.forEach((op, i) => {
      const outcome = outcomes[i];
      if (op.kind === 'quarantine') op.done();
      else if (outcome === 'no-room') op.fail(full());
      else op.done(outcome as AppendOutcome);
    });
  }

  private apply(op: Op, usedBytes: number): Outcome {
    const now = this.options.now();
    if (op.kind === 'quarantine') {
      this.quarantined.keep(op.item);
      return undefined;
    }
    const r = op.reading;
    const seen = seenKey(r);
    const { maxRows, maxBytes } = this.options;
    const overRows = maxRows > 0 && this.backlog >= maxRows;
    const overBytes = maxBytes > 0 && usedBytes >= maxBytes;
    if ((overRows || overBytes) && this.options.whenFull === 'reject') {
      // A resend of something already stored is still acknowledged when full.
      return seen !== undefined && checked(r, seen) && this.isDuplicate(r.deviceId, seen)
        ? 'duplicate'
        : 'no-room';
    }
    // One statement both checks and records (device, session, seq, digest): no change means
    // the same reading was seen before.
    if (
      seen !== undefined &&
      this.stmt.seenUpsert.run(r.deviceId, seen.session, seen.seq, seen.digest, now).changes ===
        0 &&
      checked(r, seen)
    ) {
      return 'duplicate';
    }
    if (overRows || overBytes) {
      const n = this.stmt.dropOldest.run(overRows ? this.backlog - maxRows + 1 : 64).changes;
      this.backlog -= n;
      this.countDrops(Drop.FULL, n);
    }
    this.stmt.insert.run(
      r.deviceId,
      r.session ?? null,
      r.seq ?? null,
      r.time,
      r.receivedAt,
      JSON.stringify(r.metrics),
      r.deviceTime ?? null,
    );
    this.backlog += 1;
    return 'stored';
  }

  private isDuplicate(deviceId: string, { session, seq, digest }: SeenKey): boolean {
    return this.stmt.seenGet.get(deviceId, session, seq)?.digest === digest;
  }

  private maintain(): void {
    const now = this.options.now();
    if (now - this.lastMaintenance < MAINTENANCE_EVERY_MS) return;
    this.lastMaintenance = now;
    this.stmt.seenPrune.run(now - this.options.dedupWindowMs);
    if (this.options.ttlMs > 0) {
      const n = this.stmt.dropExpired.run(now - this.options.ttlMs).changes;
      this.backlog -= n;
      this.countDrops(Drop.TTL, n);
    }
  }

  private countDrops(reason: DropReason, n: number): void {
    if (n > 0) this.stmt.countDrop.run({ reason, n });
  }

  private usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }
}

function full(): OutboxError {
  return new OutboxError(
    Code.OUTBOX_FULL,
    'the outbox is full; not accepting readings until the uplink drains it',
    {
      retriable: true,
    },
  );
}

/** The `seen` row that recognises a resend of this reading. */
interface SeenKey {
  session: number;
  seq: number;
  digest: string;
}

/** `session` of the `seen` rows of readings without a seq (device sessions are >= 0, -1 is none). */
const DIGEST_ONLY = -2;

/**
 * A reading with a seq is remembered as (device, session or -1, seq) with its digest: the same
 * key with another digest is a new reading after the 16-bit sequence wrapped. One without a seq
 * but with a digest (a mapped MQTT message: topic and payload) is remembered by the digest
 * alone, as (device, -2, 48 bits of a hash of it), in the same table and for the same
 * `dedupWindowMs`: a resend within the window is a duplicate. A reading with neither (none
 * today) is never taken for a duplicate.
 */
function seenKey(r: IncomingReading): SeenKey | undefined {
  if (r.seq !== undefined)
    return { session: r.session ?? -1, seq: r.seq, digest: r.digest ?? digestOf(r) };
  if (r.digest === undefined) return undefined;
  const seq = Number.parseInt(createHash('sha1').update(r.digest).digest('hex').slice(0, 12), 16);
  return { session: DIGEST_ONLY, seq, digest: r.digest };
}

/** Whether a seen key may make this reading a duplicate: not a first transmission without seq. */
function checked(r: IncomingReading, seen: SeenKey): boolean {
  return seen.session !== DIGEST_ONLY || r.resend === true;
}

function digestOf(r: IncomingReading): string {
  return (
    createHash('sha1')
      // The device's own stamp: a restamped resend arrives at another time but is the same reading.
      .update(`${r.deviceTime ?? r.time}|${JSON.stringify(r.metrics)}`)
      .digest('base64url')
  );
}

function toRow(r: RowFromDb): OutboxRow {
  return {
    id: r.id,
    deviceId: r.device_id,
    session: r.session ?? undefined,
    seq: r.seq ?? undefined,
    time: r.time,
    receivedAt: r.received_at,
    metrics: JSON.parse(r.metrics),
    ...(r.device_time === null ? {} : { deviceTime: r.device_time }),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
