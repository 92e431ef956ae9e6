/**
 * Base class for every error this project throws on purpose. `code` is stable (never reused,
 * never derived from the message), `retriable` tells retry loops whether trying again can help.
 */
export class IotError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(
    code: string,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Raised at start-up when configuration is missing or invalid; names the key. */
export class ConfigError extends IotError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFIG_INVALID', message, options);
  }
}
