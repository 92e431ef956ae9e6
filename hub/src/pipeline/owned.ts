import type { ReadingRecord } from '@iot-stream/contracts';
import type { Notification } from '../notify/notifications.ts';
import type { PartitionProcessor, PartitionTick } from '../processing/partition-processor.ts';

/** A partition the pipeline has open: its processor and where it stands. */
export interface Owned {
  processor: PartitionProcessor;
  /** Last offset reflected in the processor (inclusive); '-1' for none. */
  offset: string;
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
  /** Elapsed clock when records last reached the processor (or it was opened). */
  lastInputAt: number;
  /** Records behind the high watermark after the last batch. */
  lag: number;
}

/**
 * What a partition processed after its checkpoint (`saved`), all of it written and sent: the
 * inputs in order and the last offset they cover. After a failed batch the processor is
 * rebuilt from the checkpoint plus these, since the source does not deliver them again.
 */
export interface Uncheckpointed {
  inputs: (ReadingRecord | PartitionTick)[][];
  offset: string;
  /** Records of those batches, and when the checkpoint they follow was written. */
  records: number;
  since: number;
}
