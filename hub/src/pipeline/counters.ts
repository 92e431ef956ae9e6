/** What the pipeline counts (read-only from outside: Pipeline.counters). */
export interface PipelineCounters {
  readings: number;
  duplicates: number;
  /** Readings too late for their windows: stored raw, not aggregated. */
  tooLate: number;
  /** Readings refused by the processor (clock faults, TIME_AHEAD): dead-lettered. */
  rejected: number;
  invalid: number;
  aggregates: number;
  episodeEvents: number;
  checkpoints: number;
  /** Time this thread spent making them (snapshot, JSON, gzip), ms; see checkpoint-cadence.ts. */
  checkpointMs: number;
  notifications: number;
  notificationFailures: number;
  /** Notifications a stopped hub had begun sending, not sent again (possibly undelivered). */
  notificationsUncertain: number;
  /** Per partition: records behind the high watermark after the last batch. */
  lag: Record<string, number>;
  /** Partitions assigned to this hub. */
  partitions: number;
  /** Store batch writes acknowledged, their total and (since the last reset) maximum time. */
  writes: number;
  writeMs: number;
  writeMsMax: number;
  /** Readings dead-lettered because the store refused them (isolated from their batch). */
  writeRejected: number;
  /** Aggregates and episode events the store refused (logged). */
  writeRejectedDerived: number;
  /** Batch writes that failed and are being retried (outages). */
  writeFailures: number;
  /** Punctuations applied to quiet partitions (their time moved on without records). */
  punctuations: number;
}

/** What a batch's effects count (batch-effects.ts). */
export type EffectCounters = Pick<
  PipelineCounters,
  | 'readings'
  | 'duplicates'
  | 'tooLate'
  | 'rejected'
  | 'aggregates'
  | 'episodeEvents'
  | 'writes'
  | 'writeMs'
  | 'writeMsMax'
  | 'writeRejected'
  | 'writeRejectedDerived'
>;

/** What the notification outbox counts (notification-outbox.ts). */
export type NotificationCounters = Pick<
  PipelineCounters,
  'notifications' | 'notificationFailures' | 'notificationsUncertain'
>;

/** A partition whose last write failed, and since when (the source retries it). */
export interface FailingPartition {
  partition: number;
  /** Wall clock of the first failure in a row, epoch ms. */
  since: number;
  /** The error's stable code (the message, which may name internal hosts, is only logged). */
  code: string;
}
