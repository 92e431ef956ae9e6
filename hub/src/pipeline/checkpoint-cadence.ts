import type { Owned } from './owned.ts';

/** When a partition checkpoints (PipelineOptions.checkpointEvery; config stream.checkpoint*). */
export interface CheckpointEvery {
  /** Once this much elapsed time passed since the partition's last checkpoint... */
  ms: number;
  /** ...or this many records were processed since. */
  records: number;
  /**
   * At most this share of the hub's time goes to checkpoints (percent; undefined: not paced).
   * A checkpoint costs in proportion to the state of its partition (snapshot, JSON, gzip:
   * hundreds of ms for a partition of thousands of series), not to the records since the last
   * one, so at a fixed interval a hub holding many series spent most of its time checkpointing
   * (test/bench/hub-state.ts). A partition waits at least its last
   * checkpoint's cost x partitions held x 100 / costPercent after it, so all partitions'
   * checkpoints together take at most this share.
   */
  costPercent?: number;
}

/**
 * Whether a partition's checkpoint is due after a batch: the interval or the record count was
 * reached, and its cost allows one. `partitions`: how many the hub holds.
 */
export function checkpointDue(
  every: CheckpointEvery,
  owned: Owned,
  now: number,
  partitions: number,
): boolean {
  const since = now - owned.checkpointedAt;
  const wanted = owned.sinceCheckpoint >= every.records || since >= every.ms;
  return wanted && costAllows(every, owned, now, partitions);
}

/** Whether the partition's last checkpoint is far enough back for its cost (see costPercent). */
export function costAllows(
  every: CheckpointEvery | undefined,
  owned: Owned,
  now: number,
  partitions: number,
): boolean {
  const percent = every?.costPercent;
  if (percent === undefined) return true;
  const pause = (owned.checkpointCostMs * Math.max(1, partitions) * 100) / percent;
  return now - owned.checkpointedAt >= pause;
}
