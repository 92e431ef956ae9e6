import { Drop, type DropReason } from '../errors.ts';
import type { QuarantineItem } from '../ports.ts';
import type { OutboxStatements } from './statements.ts';

export interface QuarantineLimits {
  /** Rows kept at most; beyond, the oldest are dropped (`quarantine-cap`). */
  maxRows: number;
  /**
   * Rows from peers that never authenticated, at most; beyond (or beyond `maxRows`), the
   * oldest of them are dropped (`quarantine-unauthenticated-cap`).
   */
  maxUnauthenticatedRows: number;
}

/**
 * The outbox's quarantine table and its caps. Rows from peers that never authenticated are a
 * class of their own with a much smaller cap, and a new one only ever pushes out the oldest of
 * its class: strangers can never evict what devices sent. `keep` runs inside the outbox's
 * commit transaction; the counts are restored with `restore` when it rolls back.
 */
export class OutboxQuarantine {
  rows: number;
  unauthenticated: number;

  constructor(
    private readonly stmt: OutboxStatements,
    private readonly limits: QuarantineLimits,
    private readonly countDrops: (reason: DropReason, n: number) => void,
  ) {
    this.rows = stmt.countQuarantine.get()?.n ?? 0;
    this.unauthenticated = stmt.countUnauthenticated.get()?.n ?? 0;
  }

  /** The counts now, to put back if the transaction rolls back. */
  save(): () => void {
    const { rows, unauthenticated } = this;
    return () => {
      this.rows = rows;
      this.unauthenticated = unauthenticated;
    };
  }

  byCode(): Record<string, number> {
    const byCode: Record<string, number> = {};
    if (this.rows > 0) for (const q of this.stmt.quarantineByCode.all()) byCode[q.code] = q.n;
    return byCode;
  }

  keep(q: QuarantineItem): void {
    const stranger = q.unauthenticated === true;
    const { maxRows, maxUnauthenticatedRows } = this.limits;
    this.stmt.quarantine.run(
      q.receivedAt,
      q.source,
      q.code,
      q.reason,
      Buffer.from(q.raw),
      stranger ? 1 : 0,
    );
    this.rows += 1;
    if (stranger) {
      this.unauthenticated += 1;
      const over = Math.max(this.unauthenticated - maxUnauthenticatedRows, this.rows - maxRows);
      if (over > 0) {
        const n = this.stmt.dropOldestUnauthenticated.run(over).changes;
        this.unauthenticated -= n;
        this.rows -= n;
        this.countDrops(Drop.QUARANTINE_UNAUTHENTICATED_CAP, n);
      }
      return;
    }
    if (this.rows > maxRows) {
      const n = this.stmt.dropOldestQuarantine.run(this.rows - maxRows).changes;
      this.rows -= n;
      this.unauthenticated = this.stmt.countUnauthenticated.get()?.n ?? 0;
      this.countDrops(Drop.QUARANTINE_CAP, n);
    }
  }
}
