import type { GatewayStatusRecord, Metric } from '@iot-stream/contracts';

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
   * 16-bit sequence wrapped. Derived from time and metrics when absent. Without a seq, a reading
   * with a digest is a retransmission when the same digest came within the dedup window (mapped
   * MQTT messages) and the message is a resend (`resend`); one without either is never a
   * duplicate.
   */
  digest?: string | undefined;
  /**
   * A reading without a seq that came again (MQTT's DUP flag on a QoS 1 publish): only a resend
   * is checked against the digests seen. A first transmission is recorded and always stored:
   * a sensor that reports the same value twice has sent two readings.
   */
  resend?: boolean | undefined;
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
  close(): void;
}

/**
 * Where a serial link keeps the last acknowledgement it sent to each device session, so a
 * restarted gateway never acknowledges frames it did not handle [FP-6.3a].
 */
export interface AckStore {
  /** The last cumulative acknowledgement sent to a device session, if any. */
  loadAck(deviceId: string, session: number): number | undefined;
  /** Records an acknowledgement durably, before it is sent. */
  saveAck(deviceId: string, session: number, cumulative: number): void;
}

/** Which uplink the gateway forwards to: Kafka (`kafka.brokers`) or the hub over HTTP (`hub.url`). */
export type UplinkKind = 'kafka' | 'hub';

/** The uplink. `send` resolves only when every row is acknowledged upstream. */
export interface Sink {
  connect(): Promise<void>;
  send(rows: readonly OutboxRow[]): Promise<void>;
  /** Sends one gateway status record, keyed by gateway id; rejects when the uplink did not take it. */
  sendStatus(gatewayId: string, record: GatewayStatusRecord): Promise<void>;
  disconnect(): Promise<void>;
}

/** What every source counts about what it received and did with it. */
export interface IngestCounters {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  /** Quarantined input by reason code. */
  quarantinedByReason: Record<string, number>;
  /** Readings stored at the gateway's receive time because the device's clock was wrong, by reason. */
  restampedByReason: Record<string, number>;
  failed: number;
}

/** A source's counters: the ingest counters, plus whatever the source adds (state, refusals). */
export type SourceCounters = IngestCounters & {
  /** Connections and publishes refused, by reason (the embedded broker). */
  rejected?: Record<string, number>;
  /** Evidence from unauthenticated peers counted but not stored (over their rate), by code. */
  rateLimited?: Record<string, number>;
  /** A Modbus bus: its link and each device on it. */
  modbus?: ModbusBusCounters;
};

/** Why a Modbus read failed: no answer in time, a corrupt answer, an exception response, no link. */
export type ModbusErrorKind = 'timeout' | 'crc' | 'exception' | 'disconnected' | 'other';

/** One Modbus bus (a serial line or a TCP connection), as `/health` and the metrics show it. */
export interface ModbusBusCounters {
  connected: boolean;
  connects: number;
  connectFailures: number;
  lastError: string | null;
  /** Read requests sent (retries included). */
  requests: number;
  /** Time with a request in flight, ms: divided by the elapsed time, the bus utilisation. */
  busyMs: number;
  /** By our device id. */
  devices: Record<string, ModbusDeviceCounters>;
}

export interface ModbusDeviceCounters {
  unitId: number;
  /** Polls committed as a reading. */
  polls: number;
  /** Polls that failed (quarantined with their reason). */
  failed: number;
  /** Polls not tried because the bus was down. */
  skipped: number;
  /** Polls started late because the one before ran past the interval. */
  overruns: number;
  /** Reads sent again after a timeout or a corrupt answer. */
  retries: number;
  /** Failed reads (each try), by kind; exception responses also by `exception-<code>`. */
  errors: Record<string, number>;
  lastError: string | null;
  lastPollAt: number | null;
}

/** The ports a source listens on once started: none for a client (a subscription, a serial port). */
export interface SourcePorts {
  port?: number;
  tlsPort?: number;
}

/**
 * One input of readings: the embedded MQTT broker, a subscription to an external broker, a
 * serial port, a Modbus bus. Each commits what it receives through the ingest step
 * (sources/ingest.ts) and acknowledges to a device only what is on disk.
 */
export interface Source {
  /** Its key in `/health` `sources` and the metrics' `source` label: `mqtt`, `mqttExternal`, `serial:<path>`. */
  readonly name: string;
  readonly counters: SourceCounters;
  /** Resolves once the source takes input; a serial port that is missing is retried in the background. */
  start(): Promise<SourcePorts>;
  stop(): Promise<void>;
}
