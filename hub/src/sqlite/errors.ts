import { IotError } from '@iot-stream/contracts';

/**
 * Errors of the SQLite store (single-box mode). Codes are stable and never reused:
 * `STORE_TOO_NEW` (a file written by a newer hub), `STORE_RETENTION_INVALID` (not an InfluxQL
 * duration), `STORE_POINT_INVALID` (a field value InfluxDB would refuse too: not finite),
 * `STORE_WRITE_FAILED` (the commit failed: disk full, I/O error; retriable).
 */
export class StoreError extends IotError {}

export function storeWriteFailed(cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  return new StoreError('STORE_WRITE_FAILED', `store write failed: ${(cause as Error).message}`, {
    retriable: true,
    cause,
  });
}
