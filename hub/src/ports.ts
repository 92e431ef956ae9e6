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
