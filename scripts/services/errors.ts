/**
 * Errors thrown by the test harness. Same shape as the project's `IotError` (stable `code`,
 * `retriable`, `cause`) but self-contained, so the harness never depends on package code.
 */
export type HarnessErrorCode =
  | 'JAVA_MISSING'
  | 'MVN_MISSING'
  | 'KAFKA_JARS_FETCH_FAILED'
  | 'KAFKA_FORMAT_FAILED'
  | 'KAFKA_NOT_READY'
  | 'KAFKA_NODE_INDEX_INVALID'
  | 'INFLUXD_MISSING'
  | 'INFLUXD_INSTALL_FAILED'
  | 'INFLUX_NOT_READY'
  | 'SERVER_EXITED'
  | 'SERVICE_START_FAILED'
  | 'PYTHON_MISSING'
  | 'PYTHON_TOOL_INSTALL_FAILED'
  | 'CLI_USAGE';

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;
  readonly retriable: boolean;
  /** The server log that explains the failure, when there is one. */
  readonly logFile: string | undefined;

  constructor(
    code: HarnessErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown; logFile?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HarnessError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.logFile = options.logFile;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
