import type { ReadingRecord } from '@iot-stream/contracts';

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
  save(partition: number, checkpoint: Checkpoint): Promise<void>;
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
