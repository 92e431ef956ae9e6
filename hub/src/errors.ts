import { IotError } from '@iot-stream/contracts';

/**
 * Every stable code the hub gives out, with what it means (as fastify's lib/errors.js): the
 * codes of the errors it throws, of the dead letters it writes (`iot-error-code`) and of the
 * partitions /api/health lists as failing. A code is never reused or renamed; the REST API's
 * codes are in http/api/http-errors.ts. hub/test/codes.test.ts fails on a code used in
 * hub/src that is not here, and on one here that hub/docs/errors.md does not explain.
 */
export const HUB_CODES = {
  // Errors (IotError.code): start-up, configuration and the adapters.
  CHECKPOINT_FAILED: 'a checkpoint could not be written or read (Kafka); retried',
  CHECKPOINT_TOO_LARGE:
    "a partition's checkpoint is larger than the checkpoint topic takes (max.message.bytes); retried",
  KAFKA_ACK_INCOMPLETE:
    'a Kafka send resolved without acknowledging a partition it wrote to; sent again through a new producer',
  STORE_TOO_NEW: 'the SQLite store was written by a newer hub; refused',
  STORE_RETENTION_INVALID: 'a retention setting is not a duration like 30d, 12h or INF',
  STORE_POINT_INVALID: 'a value InfluxDB would refuse too (not finite, a bad timestamp)',
  STORE_WRITE_FAILED: 'the SQLite commit failed (disk full, I/O error); retried',
  INFLUX_WRITE_REJECTED: 'InfluxDB refused a write for its content (400, 413)',
  INFLUX_WRITE_FAILED: 'InfluxDB did not take a write (unreachable, 5xx); retried',
  INFLUX_AUTH_FAILED:
    'InfluxDB refused the credentials (401): influx.username/password or influx.token',
  INFLUX_SCHEMA_REFUSED:
    'InfluxDB refused to create or alter the database or a retention policy (no admin rights, or InfluxDB 2.x / 3): set influx.manageSchema false',
  INFLUX_SCHEMA_MISSING:
    'with influx.manageSchema false, the database or its raw / long retention policy does not exist',
  WEBHOOK_FAILED: 'the webhook did not take a notification',
  STATE_INVALID: 'a checkpointed state does not have the shape this version writes',
  RULES_INVALID: 'a rules file or a detector parameter is invalid',
  SOURCE_GAP:
    "a batch was fetched from past the next offset its partition's state needs; fetched again from there",
  SOURCE_OFFSETS_FAILED:
    'the oldest offset a partition still holds could not be read (past a repeated SOURCE_GAP); the batch is retried',
  USAGE_INVALID: 'bad command-line usage of iot-hub backtest / evaluate',
  // Dead letters (header iot-error-code), besides contracts' RECORD_NOT_JSON,
  // RECORD_INVALID and RECORD_VERSION for records that fail validation.
  TIME_AHEAD: "a reading stamped more than stream.maxAheadMs ahead of its gateway's receive time",
  STORE_REJECTED: 'a reading the store refused for its content, isolated from its batch',
  // Windows (AddResult.tooLate.code): a reading too late for its windows; counted, stored raw.
  TOO_LATE: 'a reading older than its watermark minus the allowed lateness',
  // Failing partitions (/api/health writes.failing[].code) when the error has no code.
  WRITE_FAILED: 'a batch write failed without a code of its own (a network error, say)',
} as const;

export type HubCode = keyof typeof HUB_CODES;

/**
 * A batch that does not continue where its partition's state ends (Pipeline.handle): the
 * records between were never processed into that state. The source fetches again from `next`.
 */
export class SourceGapError extends IotError {
  constructor(
    readonly partition: number,
    readonly next: string,
    fetchedFrom: string,
  ) {
    super(
      'SOURCE_GAP',
      `partition ${partition}: batch fetched from offset ${fetchedFrom}, but the state needs ${next} next`,
      { retriable: true },
    );
  }
}
