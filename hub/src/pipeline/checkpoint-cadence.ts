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
   * (test/bench/hub-state.ts). A partition waits at least the last checkpoint costs of all
   * partitions held, summed, x 100 / costPercent after its own (at most MAX_PAUSE_MS), so
   * their paced checkpoints together take about this share. Undefined or not above 0: not
   * paced.
   */
  costPercent?: number;
}

/** The longest a partition waits for its checkpoints' cost: a crash replays at most this. */
export const MAX_PAUSE_MS = 60_000;

/**
 * Whether a partition's checkpoint is due after a batch: the interval or the record count was
 * reached, and its cost allows one. `roundMs`: the last checkpoint cost of every partition the
 * hub holds, summed (see costAllows).
 */
export function checkpointDue(
  every: CheckpointEvery,
  owned: Owned,
  now: number,
  roundMs: number,
): boolean {
  const since = now - owned.checkpointedAt;
  const wanted = owned.sinceCheckpoint >= every.records || since >= every.ms;
  return wanted && costAllows(every, owned, now, roundMs);
}

/**
 * Whether the partition's last checkpoint is far enough back for the cost of checkpoints: a
 * round of every held partition's, its own included (`roundMs`, their last costs summed: idle
 * partitions cost next to nothing) x 100 / costPercent, at most MAX_PAUSE_MS (one slow
 * checkpoint, a long garbage collection in it, must not hold a partition's commits back for
 * minutes).
 */
export function costAllows(
  every: CheckpointEvery | undefined,
  owned: Owned,
  now: number,
  roundMs: number,
): boolean {
  const percent = every?.costPercent;
  if (percent === undefined || !(percent > 0)) return true;
  const pause = Math.min(MAX_PAUSE_MS, (roundMs * 100) / percent);
  return now - owned.checkpointedAt >= pause;
}
