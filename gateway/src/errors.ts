import { IotError } from '@iot-stream/contracts';

/**
 * Every stable code the gateway reports, with what it means in one line: the catalog
 * (gateway/docs/errors.md lists the same, checked by gateway/test/codes.test.ts).
 * Codes are never reused or renamed; code elsewhere names them through `Code`, `Refusal` and
 * `Drop`, never as string literals.
 */

/** `code` of the errors the gateway throws (IotError). */
export const ERROR_CODES = {
  CONFIG_INVALID: 'a setting is missing or invalid: the gateway does not start (exit 2)',
  OUTBOX_WRITE_FAILED:
    'the outbox could not commit (disk full, I/O error): nothing is acknowledged until it can',
  OUTBOX_FULL:
    'the outbox is at outbox.maxRows or outbox.maxBytes with whenFull reject: nothing is acknowledged until the uplink drains it',
  OUTBOX_CLOSED: 'a write reached the outbox after it was closed (the gateway is stopping)',
  OUTBOX_TOO_NEW: 'the outbox file has a newer schema than this gateway: upgrade the gateway',
  UPLINK_FAILED: 'the hub did not take a request (HTTP uplink): the rows are resent',
  KAFKA_SEND_FAILED:
    'Kafka did not acknowledge a batch sent through @platformatic/kafka (kafka.client platformatic): the rows are resent',
  NOT_AUTHORISED:
    "what the embedded broker answers a publish or subscribe to another device's topics",
  MQTT_BAD_LENGTH: 'an MQTT fixed header with more than four Remaining Length bytes',
  MQTT_STOPPED: 'internal: the listener stopped a connection it refused; never logged or stored',
  NATIVE_ADDON_MISSING:
    'better-sqlite3 has no binary for this CPU and OS (e.g. 32-bit ARM): the gateway does not start; docs/raspberry-pi.md shows how to compile it',
  MODBUS_READ_FAILED:
    'a Modbus read got no valid answer (timeout, CRC error, exception answer, bus down); counted per device',
} as const;

/**
 * `code` of what the gateway keeps in the outbox's quarantine table (`/health`
 * quarantinedByReason and quarantinedByCode, iot_gateway_quarantined_total{reason}); the
 * device clock codes are also restamp reasons (iot_gateway_restamped_total{reason}).
 */
export const QUARANTINE_CODES = {
  JSON_INVALID: 'an MQTT payload that is not UTF-8 JSON (firmware protocol)',
  PAYLOAD_INVALID:
    'an MQTT payload or serial frame that is not a valid reading; the reason names the field',
  UNAUTHORISED_TOPIC: "a device published to another device's topic (refused, payload kept)",
  MAPPING_JSON_INVALID:
    'an MQTT payload a mapping rule matched that is not UTF-8 text, or (json, senml rules) not JSON',
  MAPPING_PATH_MISSING:
    'a mapped MQTT payload without a value its rule expects (a metric, the time or seq path); the reason names the rule and the path',
  MAPPING_NOT_A_NUMBER:
    'a mapped value that is not a number, true/false or ON/OFF (text, null, an object)',
  MAPPING_TIME_INVALID:
    'a mapped time that is neither ISO 8601 nor epoch seconds or milliseconds as its rule says',
  MAPPING_SEQ_INVALID: 'a mapped seq that is not an integer 0..65535',
  MAPPING_NAME_INVALID:
    'a device id or metric name from a mapped topic or SenML name that is not 1..64 of [A-Za-z0-9._-]',
  SENML_INVALID:
    'a payload a senml rule matched that is not a valid SenML JSON pack (RFC 8428); the reason names the record',
  PACKET_TOO_LARGE:
    'an MQTT packet declared larger than mqtt.maxPacketBytes; its start is kept, never a credential packet',
  MQTT_PROTOCOL_ERROR:
    'a connection broke the MQTT protocol, or sent bytes but no CONNECT in time; its first bytes are kept without credentials',
  MQTT_CONNECT_REFUSED:
    'a refused login, kept as a description (client id, username, version), never the password',
  TIME_INVALID: 'a device time outside 2000-01-01 .. 2100-01-01 (a clock never set)',
  TIME_AHEAD: 'a device time more than clock.maxAheadMs ahead of the gateway receive time',
  TIME_BEHIND: 'a device time more than clock.maxBehindMs behind the receive time (when set)',
  NOT_READY: 'a serial data frame before the device hello in this session (the device resends)',
  UNKNOWN_ALIAS: 'a serial data frame naming a sensor alias the device never described',
  TRUNCATED: 'a serial frame shorter than 13 bytes, or the port closed inside one (SPEC 9)',
  FRAME_TOO_LONG: 'a serial frame over the maximum frame size (SPEC 9)',
  COBS_INVALID: 'a serial frame whose COBS encoding overruns it (SPEC 9)',
  CRC_MISMATCH: 'a serial frame whose CRC-32 differs from its content (SPEC 9)',
  UNSUPPORTED_VERSION: 'a serial frame of a protocol version the gateway does not speak (SPEC 9)',
  UNSUPPORTED_FLAGS: 'a serial frame with must-understand flags the gateway lacks (SPEC 9)',
  UNKNOWN_TYPE: 'a serial frame of a message type the gateway does not know (SPEC 9)',
  CBOR_INVALID: 'a serial frame whose CBOR payload is not well-formed (SPEC 9)',
  CBOR_NON_CANONICAL: 'a serial frame whose CBOR payload is not deterministic (SPEC 9)',
  CBOR_UNSUPPORTED: 'a serial frame whose CBOR payload is outside the subset (SPEC 9)',
  MODBUS_POLL_FAILED:
    'a Modbus poll whose read failed (timeout, CRC, exception) or value was NaN; kept with bus, unit, request',
} as const;

/** Why the embedded broker refused a connection or packet (iot_gateway_rejected_total{reason}). */
export const REFUSAL_REASONS = {
  'auth-failed':
    'a login with wrong or missing credentials, or a client id that is not the device id',
  'auth-error': 'the credential check itself failed to run (server unavailable)',
  'connect-refused': 'aedes refused the CONNECT (protocol version, client id, keep-alive)',
  'publish-denied': "a publish to another device's topic",
  'subscribe-denied': "a subscription to another device's topics",
  'max-clients': 'a CONNECT beyond mqtt.maxClients',
  'max-pending': 'a connection beyond mqtt.maxPending still waiting for its CONNECT',
  'max-pending-per-address':
    'a connection beyond mqtt.maxPendingPerAddress from one address still waiting for its CONNECT',
  'connect-timeout': 'no CONNECT within mqtt.connectTimeoutMs',
  'packet-too-large': 'a packet declared larger than mqtt.maxPacketBytes',
  'protocol-error': 'a connection that broke the MQTT protocol',
  'keepalive-timeout': 'a client silent for longer than its keep-alive',
  'connection-error': 'a connection that failed at the system level (reset, timeout)',
} as const;

/** Why readings or quarantine rows were dropped on purpose (iot_gateway_dropped_total{reason}). */
export const DROP_REASONS = {
  full: 'the oldest readings, to make room, at the outbox cap with whenFull drop-oldest',
  ttl: 'readings older than outbox.ttlMs',
  'quarantine-cap': 'the oldest quarantine rows beyond outbox.maxQuarantineRows',
  'quarantine-unauthenticated-cap':
    'the oldest rows from peers that never authenticated beyond mqtt.unauthenticated.maxQuarantineRows',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type QuarantineCode = keyof typeof QUARANTINE_CODES;
export type RefusalReason = keyof typeof REFUSAL_REASONS;
export type DropReason = keyof typeof DROP_REASONS;

type Constant<S extends string> = S extends `${infer A}-${infer B}`
  ? `${Uppercase<A>}_${Constant<B>}`
  : Uppercase<S>;
type Names<T> = { readonly [K in keyof T & string as Constant<K>]: K };

/** `{ 'auth-failed': ... }` -> `{ AUTH_FAILED: 'auth-failed' }`. */
function names<T extends Record<string, string>>(meanings: T): Names<T> {
  return Object.fromEntries(
    Object.keys(meanings).map((code) => [code.toUpperCase().replaceAll('-', '_'), code]),
  ) as Names<T>;
}

/** Error and quarantine codes by name: `Code.OUTBOX_FULL`, `Code.TIME_AHEAD`. */
export const Code = names({ ...ERROR_CODES, ...QUARANTINE_CODES });
/** Refusal reasons by name: `Refusal.AUTH_FAILED` is `auth-failed`. */
export const Refusal = names(REFUSAL_REASONS);
/** Drop reasons by name: `Drop.QUARANTINE_CAP` is `quarantine-cap`. */
export const Drop = names(DROP_REASONS);

export class OutboxError extends IotError {}

/** The outbox could not commit (disk full, I/O error): stop acknowledging, retry later. */
export function outboxWriteFailed(cause: unknown): OutboxError {
  return new OutboxError(
    Code.OUTBOX_WRITE_FAILED,
    `outbox write failed: ${(cause as Error).message}`,
    {
      retriable: true,
      cause,
    },
  );
}

/** The uplink did not take a request; `retriable` tells the forwarder to resend. */
export class UplinkError extends IotError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(Code.UPLINK_FAILED, message, options);
  }
}
