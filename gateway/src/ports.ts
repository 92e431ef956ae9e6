import type { Metric } from '@iot-stream/contracts';

/** A reading as a source hands it to the outbox, before it has a gateway sequence number. */
export interface IncomingReading {
  deviceId: string;
  session?: number | undefined;
  seq?: number | undefined;
  /** Event time, epoch ms. */
  time: number;
  receivedAt: number;
  /**
   * The device's own stamp when the gateway replaced `time` with its receive time because the
   * device's clock was faulty (`clock.policy: restamp`); absent when the device's time was kept.
   */
  deviceTime?: number | undefined;
  metrics: Record<string, Metric>;
  /**
   * What the device sent, condensed (a hash of the raw payload): a repeated (device, session,
   * seq) with the same digest is a retransmission, with another digest a new reading after the
   * 16-bit sequence wrapped. Derived from time and metrics when absent.
   */
  digest?: string | undefined;
}

/** An outbox row: `id` is the gateway sequence number (strictly increasing, never reused). */
export interface OutboxRow extends Omit<IncomingReading, 'digest'> {
  id: number;
}

/** Input that could not be decoded or validated, kept with its reason. */
export interface QuarantineItem {
  source: string;
  code: string;
  reason: string;
  raw: Uint8Array;
  receivedAt: number;
  /**
   * From a peer that never authenticated (a refused CONNECT, bytes before one): such rows have
   * their own, smaller cap and only ever push out each other, never what devices sent.
   */
  unauthenticated?: boolean | undefined;
}

export type AppendOutcome = 'stored' | 'duplicate';

export interface OutboxStats {
  backlogRows: number;
  /** Bytes the outbox file holds in use (pages in use x page size). */
  backlogBytes: number;
  oldestReceivedAt: number | null;
  quarantined: number;
  /** Quarantined rows by error code (`FRAME_CRC`, `PAYLOAD_INVALID`, ...). */
  quarantinedByCode: Record<string, number>;
  /** Readings dropped on purpose, by reason (`full` under drop-oldest, `ttl`). */
  drops: Record<string, number>;
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
  /** The last cumulative acknowledgement sent to a serial device session, if any. */
  loadAck(deviceId: string, session: number): number | undefined;
  /** Records an acknowledgement durably, before it is sent. */
  saveAck(deviceId: string, session: number, cumulative: number): void;
  close(): void;
}

/** The uplink. `send` resolves only when every row is acknowledged upstream. */
export interface Sink {
  connect(): Promise<void>;
  send(rows: readonly OutboxRow[]): Promise<void>;
  disconnect(): Promise<void>;
}
