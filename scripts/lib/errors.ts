/**
 * Errors `npm start` (scripts/start.ts) raises on purpose. Same shape as the project's
 * `IotError` (stable `code`, `retriable`, `cause`) but self-contained: importing the contracts
 * package would load its schema and Kafka libraries just to print `--help`.
 */
export type StartErrorCode =
  /** An unknown option or a value of the wrong form: nothing was started. */
  | 'START_USAGE'
  /** A port given explicitly (`--port`, ...) is in use: nothing was started. */
  | 'START_PORT_TAKEN'
  /** A port given explicitly cannot be listened on for another reason (EACCES, ...). */
  | 'START_PORT_UNUSABLE'
  /** Two options ask for the same port. */
  | 'START_PORT_CONFLICT'
  /** The hub, gateway or simulator stopped before it was ready. */
  | 'START_APP_FAILED';

export class StartError extends Error {
  readonly code: StartErrorCode;
  readonly retriable: boolean;

  constructor(
    code: StartErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StartError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Exit code 2 when nothing was started (usage, a refused setting), as the apps' CLIs do. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof StartError && err.code !== 'START_APP_FAILED') return 2;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
