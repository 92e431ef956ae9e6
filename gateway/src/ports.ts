import type { Metric } from '@iot-stream/contracts';

/** A reading as a source hands it to the outbox, before it has a gateway sequence number. */
export interface IncomingReading {
  deviceId: string;
  session?: number | undefined;
  seq?: number | undefined;
  /** Event time, epoch ms. */
  time: number;
  receivedAt: number;
  metrics: Record<string, Metric>;
}

/** An outbox row: `id` is the gateway sequence number (strictly increasing, never reused). */
export interface OutboxRow extends IncomingReading {
  id: number;
}

/** Input that could not be decoded or validated, kept with its reason. */
export interface QuarantineItem {
  source: string;
  code: string;
  reason: string;
  raw: Uint8Array;
  receivedAt: number;
}

export type AppendOutcome = 'stored' | 'duplicate';

export interface OutboxStats {
  backlogRows: number;
  oldestReceivedAt: number | null;
  quarantined: number;
}

/**
 * The durable store between sources and the uplink. `append` and `quarantine` resolve only
 * once the data is committed to disk; callers acknowledge to devices after that, never before.
 */
export interface Outbox {
  append(reading: IncomingReading): Promise<AppendOutcome>;
  quarantine(item: QuarantineItem): Promise<void>;
  /** Oldest rows first. */
  peek(limit: number): OutboxRow[];
  /** Deletes rows the uplink has acknowledged. */
  remove(ids: readonly number[]): void;
  stats(): OutboxStats;
  close(): void;
}

/** The uplink. `send` resolves only when every row is acknowledged upstream. */
export interface Sink {
  connect(): Promise<void>;
  send(rows: readonly OutboxRow[]): Promise<void>;
  disconnect(): Promise<void>;
}
