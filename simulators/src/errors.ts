import { IotError } from '@iot-stream/contracts';

/**
 * Stable error codes of the simulator. Usage errors exit with code 2, everything else with 1.
 * - USAGE: a flag or its value is wrong;
 * - SPEC_INVALID: an anomaly spec, rules file or fleet file is not valid;
 * - CSV_INVALID: a replay file has no usable header;
 * - SERIAL_OPEN_FAILED / MQTT_CONNECT_FAILED: a transport could not start (retriable);
 * - MODBUS_LISTEN_FAILED: the Modbus TCP server could not listen (a port taken).
 */
export type SimErrorCode =
  | 'USAGE'
  | 'SPEC_INVALID'
  | 'CSV_INVALID'
  | 'SERIAL_OPEN_FAILED'
  | 'MQTT_CONNECT_FAILED'
  | 'MODBUS_LISTEN_FAILED';

export class SimError extends IotError {
  declare readonly code: SimErrorCode;

  constructor(
    code: SimErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

export const usageError = (message: string): SimError => new SimError('USAGE', message);
export const specError = (message: string): SimError => new SimError('SPEC_INVALID', message);
