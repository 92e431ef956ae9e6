import type { RefusalReason } from '../../errors.ts';
import { type IngestContext, quarantine } from '../ingest.ts';
import { TokenBuckets } from './token-buckets.ts';

export interface RefusalCounters {
  /** Connections and publishes refused, by reason: each refusal counted once. */
  rejected: Record<string, number>;
  /**
   * Evidence from peers that never authenticated that was counted but not stored, because
   * their address was over `mqtt.unauthenticated.recordsPerMinute`, by code.
   */
  rateLimited: Record<string, number>;
}

/** What a peer that never authenticated can make the gateway write, per remote address. */
export interface UnauthenticatedLimits {
  recordsPerMinute: number;
  recordsBurst: number;
}

export const DEFAULT_UNAUTHENTICATED_LIMITS: UnauthenticatedLimits = {
  recordsPerMinute: 6,
  recordsBurst: 10,
};

/**
 * Counts what the embedded broker refuses and keeps the evidence. Anyone who can open a TCP
 * connection can be refused, so what peers that never authenticated make the gateway write
 * (quarantine rows, warnings in the log) is limited per remote address by a token bucket;
 * beyond it a refusal is still counted (`rejected`, `rateLimited`) and logged at debug level,
 * just not stored. Their rows are also marked, so the outbox caps them apart from devices'.
 */
export class RefusalRecords {
  private readonly buckets: TokenBuckets;

  constructor(
    private readonly ingest: IngestContext,
    private readonly counters: RefusalCounters,
    limits: UnauthenticatedLimits,
  ) {
    this.buckets = new TokenBuckets({
      perMinute: limits.recordsPerMinute,
      burst: limits.recordsBurst,
    });
  }

  /** Counts one refusal under its reason. */
  count(reason: RefusalReason): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
  }

  /**
   * Keeps evidence from a peer that never authenticated, if its address is within its rate.
   * `raw` is only built when it will be stored.
   */
  keepUnauthenticated(
    remote: string,
    record: { code: string; reason: string; raw: () => Buffer },
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const { code, reason } = record;
    if (!this.buckets.take(remote, this.ingest.now())) {
      this.counters.rateLimited[code] = (this.counters.rateLimited[code] ?? 0) + 1;
      this.ingest.log.debug({ remote, code, reason, ...fields }, `${message} (not stored: rate)`);
      return;
    }
    this.ingest.log.warn({ remote, code, reason, ...fields }, message);
    // The outbox records a failed write (readiness turns false); the refusal stays counted.
    void quarantine(this.ingest, `mqtt:${remote}`, code, reason, record.raw(), true).catch(
      () => undefined,
    );
  }

  /** A warning about a peer that never authenticated, limited like its records. */
  warnUnauthenticated(remote: string, fields: Record<string, unknown>, message: string): void {
    if (this.buckets.take(remote, this.ingest.now()))
      this.ingest.log.warn({ remote, ...fields }, message);
    else this.ingest.log.debug({ remote, ...fields }, message);
  }

  /** Keeps evidence from an authenticated device: always stored. */
  keepDevice(
    remote: string,
    record: { code: string; reason: string; raw: Buffer },
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const { code, reason } = record;
    this.ingest.log.warn({ remote, code, reason, ...fields }, message);
    void quarantine(this.ingest, `mqtt:${remote}`, code, reason, record.raw).catch(() => undefined);
  }
}
