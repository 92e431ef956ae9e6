import { IotError } from '@iot-stream/contracts';

export class OutboxError extends IotError {}

/** The outbox could not commit (disk full, I/O error): stop acknowledging, retry later. */
export function outboxWriteFailed(cause: unknown): OutboxError {
  return new OutboxError(
    'OUTBOX_WRITE_FAILED',
    `outbox write failed: ${(cause as Error).message}`,
    {
      retriable: true,
      cause,
    },
  );
}

export class SinkError extends IotError {}
