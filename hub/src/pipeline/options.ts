import type { Logger } from 'pino';
import type { TransitionType } from '../detect/episodes.ts';
import type { Notifier } from '../notify/webhook.ts';
import type { BatchOutput, CheckpointStore, Outputs } from '../ports.ts';
import type {
  PartitionOutput,
  PartitionProcessorOptions,
} from '../processing/partition-processor.ts';
import type { CheckpointEvery } from './checkpoint-cadence.ts';
import type { RetainedFrom } from './continuity.ts';

export interface PipelineOptions {
  processor: PartitionProcessorOptions;
  store: { writeBatch(batch: BatchOutput): Promise<void> };
  /** Dead letters and episode events (Kafka topics, or the local log). */
  outputs: Outputs;
  checkpoints: CheckpointStore;
  /** Where the records come from, named in dead letters (the readings topic). */
  source: string;
  log: Logger;
  /** Webhook; undefined: no notifications. */
  notifier?: Notifier | undefined;
  notifyOn?: readonly TransitionType[];
  /** Send again what a crashed hub had begun sending (may repeat a message; default: not). */
  resendAttempted?: boolean;
  /** Told when a batch's outputs were acknowledged by InfluxDB (benchmarks, tests). */
  onWritten?: (out: PartitionOutput, ackedAt: number) => void;
  /**
   * A clock for elapsed time only (checkpoint cadence, quiet partitions, punctuation): never
   * compared with the records' times, so the hub's wall clock may be off by any amount.
   * Default: performance.now() (monotonic).
   */
  elapsed?: () => number;
  /**
   * The oldest offset the source still holds for a partition (Kafka: the log start offset;
   * see continuity.ts): records a partition's state needs that lie before it are gone, and
   * processing goes on without them. Default: the source holds everything.
   */
  retainedFrom?: RetainedFrom;
  /**
   * Whether the source is fetching (it answered recently). A partition is punctuated only then:
   * a hub cut off from Kafka must not take the silence for quiet devices.
   */
  live?: () => boolean;
  /**
   * Checkpoint a partition only once this much elapsed time passed or this many records were
   * processed since its last checkpoint, and its cost allows (checkpoint-cadence.ts); or when
   * a batch has notifications; or when the source asks for a `flush` and the cost allows.
   * Undefined: after every batch. `handle` resolves with the offset the checkpoint covers, and
   * only that may be committed (kafka-source.ts does).
   */
  checkpointEvery?: CheckpointEvery;
}
