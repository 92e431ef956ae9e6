import { IotError } from '@iot-stream/contracts';

/**
 * Errors of the hub's pure core (windows, detectors, rules, backtest). Codes are stable and
 * never reused. None of them is retriable: they describe bad input, not a passing condition.
 */

/** A snapshot handed to `restore()` does not have the shape this version writes. */
export class StateError extends IotError {
  constructor(what: string, detail: string) {
    super('STATE_INVALID', `cannot restore ${what}: ${detail}`);
  }
}

/** A rules file (or a detector's parameters) is invalid; the message names rule and key. */
export class RulesError extends IotError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('RULES_INVALID', message, options);
  }
}

/** Bad command-line usage of `iot-hub backtest`. */
export class UsageError extends IotError {
  constructor(message: string) {
    super('USAGE_INVALID', message);
  }
}
