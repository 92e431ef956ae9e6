import type { ReadingRecord } from '@iot-stream/contracts';
import type { EpisodeEvent } from './detect/engine-types.ts';
import type { Aggregate } from './windows/window-state.ts';

/*
 * The hub's ports, in its own types: where readings come from (a reading source: Kafka or the
 * local log), what a processed batch writes (a store: InfluxDB or SQLite), where checkpoints
 * live. Adapters implement them; the pipeline and the API see only these.
 */

/** One reading as the REST API returns it: all metrics of one device at one instant. */
export interface StoredReading {
  time: number;
  gatewayId: string;
  gatewaySeq: number | null;
  seq: number | null;
  metrics: Record<string, { value: number; unit?: string }>;
}

export interface ReadingQuery {
  deviceId: string;
  from: number;
  to: number;
  limit: number;
}

/** Where readings are written and read back. `write` resolves once the store acknowledged. */
export interface ReadingStore {
  init(): Promise<void>;
  write(records: readonly ReadingRecord[]): Promise<void>;
  readings(query: ReadingQuery): Promise<StoredReading[]>;
  ping(): Promise<boolean>;
}

/** A partition's stream-core state and the last Kafka offset it covers. */
export interface Checkpoint {
  v: 1;
  /** Last offset (inclusive) of the readings partition reflected in `state`. */
  offset: string;
  state: unknown;
  /**
   * Notifications produced up to `offset` and not yet delivered (delivered from here only).
   * `attempted`: a hub began sending it after this was durable; after a crash it is not sent
   * again (unless `webhook.afterCrash` is `resend`), so a notification never repeats.
   */
  pending?: { key: string; text: string; attempted?: boolean }[];
  /**
   * Punctuations of a quiet partition decided but not yet in `state` (the partition's time,
   * epoch ms on the gateways' clock): a hub opening this checkpoint applies them first, so a
   * stop between deciding and applying changes nothing (see Pipeline.punctuate).
   */
  ticks?: number[];
}

/** Where per-partition checkpoints live, so any hub of the group can pick a partition up. */
export interface CheckpointStore {
  /**
   * `json`: the checkpoint serialised (UTF-8 JSON, as JSON.stringify writes it); `load` gives
   * back the Checkpoint it holds.
   */
  save(partition: number, json: Buffer): Promise<void>;
  load(partitions: readonly number[]): Promise<Map<number, Checkpoint>>;
}

export type AggregateFn =
  | 'mean'
  | 'min'
  | 'max'
  | 'sum'
  | 'count'
  | 'first'
  | 'last'
  | 'median'
  | 'stddev';

export interface SeriesQuery {
  deviceId: string;
  from: number;
  to: number;
  metrics: readonly string[] | undefined;
  everyMs: number;
  fn: AggregateFn;
  limit: number;
}

export interface SeriesPoint {
  time: number;
  metric: string;
  value: number;
}

export interface DeviceSummary {
  deviceId: string;
  lastSeen: number;
  gateway: string | null;
  openAnomalies: number;
}

export interface AnomalyQuery {
  from: number;
  to: number;
  deviceId: string | undefined;
  severity: string | undefined;
  limit: number;
  offset: number;
}

export interface StoredAnomaly {
  id: string;
  deviceId: string;
  metric: string;
  rule: string;
  detector: string;
  severity: string;
  start: number;
  end: number | null;
  state: string;
  peakScore: number;
  peakTime: number;
  peakValue: number | null;
  title: string;
  text: string;
}

export interface GatewayStatus {
  gatewayId: string;
  time: number;
  version: string | null;
  kafkaConnected: boolean | null;
  backlogRows: number | null;
  oldestReceivedAt: number | null;
  forwarded: number | null;
}

/** What the REST API reads beyond raw readings. */
export interface HubQueries {
  series(q: SeriesQuery): Promise<SeriesPoint[]>;
  devices(since: number): Promise<DeviceSummary[]>;
  anomalies(q: AnomalyQuery): Promise<StoredAnomaly[]>;
  gateways(since: number): Promise<GatewayStatus[]>;
}

// ---- reading sources (kafka/kafka-source.ts, local/source.ts) ----

/** What a reading source counts (Kafka or the local log). */
export interface SourceCounters {
  records: number;
  invalid: number;
  writeFailures: number;
  batches: number;
  /** Control records older hubs appended to the readings log, skipped. */
  legacyControl: number;
}

/** A record that failed validation, for the dead letters. */
export interface InvalidRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  code: string;
  reason: string;
}

/** One fetched batch of one partition, decoded, in offset order. */
export interface SourceBatch {
  partition: number;
  lastOffset: string;
  highWatermark: string;
  records: { offset: string; record: ReadingRecord }[];
  invalid: InvalidRecord[];
  /**
   * The offset the fetch that brought this batch started at, when the source knows it (Kafka:
   * the consumer's position). Beyond the offset after the partition's state, the records
   * between were skipped: the handler rejects the batch with a SourceGapError.
   */
  fetchedFrom?: string;
  /** No records: checkpoint what earlier batches left uncheckpointed (see flushAfterMs). */
  flush?: boolean;
}

/**
 * Processes and writes a batch; resolves once everything it produced is acknowledged, with the
 * last offset of the partition whose effects are checkpointed (a string): only up to there is
 * committed. Resolving with anything else means the whole batch.
 */
export type BatchHandler = (batch: SourceBatch) => Promise<unknown>;

/** Told the partitions this member owns after each rebalance (a new generation). */
export type AssignmentListener = (partitions: number[]) => void;

// ---- stores (influx/store.ts, sqlite/store.ts) ----

/** The site tag of a device (processing/sites.ts). */
export type SiteOf = (deviceId: string) => string;

/** What one processed batch writes. */
export interface BatchOutput {
  readings: readonly ReadingRecord[];
  aggregates: readonly Aggregate[];
  events: readonly EpisodeEvent[];
  /** Site tags (see sites.ts); without it every device is `unassigned`. */
  siteOf?: SiteOf;
}

// ---- outputs besides the store (kafka/outputs.ts, local/outputs.ts) ----

/** A record the hub could not take, kept with its reason (the dead letters). */
export interface DeadLetter {
  key: Buffer | string | null;
  value: Buffer | string | null;
  /** A stable code (RECORD_INVALID, TIME_AHEAD, STORE_REJECTED, ...) and a reason for people. */
  code: string;
  reason: string;
  /** Where it came from: the readings topic (or `http-ingest`), partition and offset. */
  source: { topic: string; partition: number; offset?: string };
}

/** Where the pipeline's outputs besides the store go. Resolves once they are durable. */
export interface Outputs {
  deadLetters(items: readonly DeadLetter[]): Promise<void>;
  episodes(events: readonly EpisodeEvent[]): Promise<void>;
}
