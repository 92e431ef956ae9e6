import type { Notification } from '../notify/notifications.ts';
import type { PartitionProcessor } from '../processing/partition-processor.ts';

/** A partition the pipeline has open: its processor and where it stands. */
export interface Owned {
  processor: PartitionProcessor;
  /** Last offset reflected in the processor (inclusive); '-1' for none. */
  offset: string;
  /**
   * The offset the first batch processed into it started at: where the source is sent back to
   * when it fails before its first checkpoint.
   */
  first?: string;
  /** Checkpointed notifications not yet delivered. */
  pending: Notification[];
  /**
   * Punctuations recorded in the opened checkpoint but not in its state (a hub stopped while
   * applying them): applied first, before anything else reaches the processor.
   */
  carry: number[];
  /** Elapsed clock of the last checkpoint (or of opening), and records processed since. */
  checkpointedAt: number;
  sinceCheckpoint: number;
  /** Elapsed time the last checkpoint took on this thread (snapshot, JSON, gzip); 0: none yet. */
  checkpointCostMs: number;
  /** Elapsed clock when records last reached the processor (or it was opened). */
  lastInputAt: number;
  /** Records behind the high watermark after the last batch. */
  lag: number;
}
