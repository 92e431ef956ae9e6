// Message types and their bodies [FP-5.1]..[FP-5.11]. Field keys are small unsigned integers;
// the JSON names here are what the tools print and read.

export const MESSAGE_TYPES = {
  hello: 1,
  describe: 2,
  data: 3,
  ack: 4,
  timeRequest: 5,
  timeResponse: 6,
  error: 7,
  log: 8,
  command: 9,
  commandResult: 10,
} as const;

export type MessageTypeName = keyof typeof MESSAGE_TYPES;

const NAMES: Array<MessageTypeName | undefined> = [];
for (const [name, code] of Object.entries(MESSAGE_TYPES)) NAMES[code] = name as MessageTypeName;

export function messageTypeName(code: number): MessageTypeName | undefined {
  return NAMES[code];
}

/** Capability bits of hello [FP-5.2]. */
export const CAPABILITIES = {
  realTimeClock: 0x01,
  commands: 0x02,
  retransmit: 0x04,
  timeSync: 0x08,
  log: 0x10,
} as const;

/** Codes of the error message [FP-5.7]. */
export const ERROR_MESSAGE_CODES = {
  unsupportedVersion: 1,
  unsupportedFlags: 2,
  unknownType: 3,
  payloadInvalid: 4,
  frameTooLong: 5,
  unknownAlias: 6,
  overflow: 7,
  sensorFault: 8,
  notReady: 9,
} as const;

/** Status codes of a command result [FP-5.10]. */
export const COMMAND_STATUS = {
  ok: 0,
  unknownCommand: 1,
  invalidArgs: 2,
  failed: 3,
  busy: 4,
} as const;

/** Log levels [FP-5.8]. */
export const LOG_LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

export type JsonValue =
  | number
  | string
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface HelloBody {
  deviceId: string;
  firmware: string;
  capabilities: number;
  /** Largest frame this sender can receive; 254 when absent [FP-6.4]. */
  maxFrame?: number;
}

export interface SensorDescription {
  alias: number;
  name: string;
  /** SenML unit, e.g. "Cel", "%RH", "Pa" [FP-5.3]. */
  unit?: string;
  /** Decimal exponent: value = raw * 10^scale; 0 when absent. */
  scale?: number;
}

export interface DescribeBody {
  sensors: SensorDescription[];
}

/** A reading as [alias, raw integer value]. */
export type Reading = [alias: number, value: number];

export interface DataBody {
  /** Milliseconds since the device booted. */
  uptime?: number;
  /** Milliseconds since the Unix epoch, from a real-time clock or time sync. */
  time?: number;
  /** Sorted by alias, each alias at most once. */
  readings: Reading[];
}

export interface AckBody {
  session: number;
  cumulative: number;
  /** Bit i set: seq cumulative+1+i was received too. */
  selective?: number;
}

export interface TimeRequestBody {
  uptime: number;
}

export interface TimeResponseBody {
  uptime: number;
  received: number;
  sent: number;
}

export interface ErrorBody {
  code: number;
  message?: string;
  seq?: number;
}

export interface LogBody {
  level: number;
  message: string;
  uptime?: number;
}

export interface CommandBody {
  id: number;
  name: string;
  args?: { [key: string]: JsonValue };
}

export interface CommandResultBody {
  id: number;
  status: number;
  message?: string;
  result?: JsonValue;
}

export type Message =
  | { type: 'hello'; body: HelloBody }
  | { type: 'describe'; body: DescribeBody }
  | { type: 'data'; body: DataBody }
  | { type: 'ack'; body: AckBody }
  | { type: 'timeRequest'; body: TimeRequestBody }
  | { type: 'timeResponse'; body: TimeResponseBody }
  | { type: 'error'; body: ErrorBody }
  | { type: 'log'; body: LogBody }
  | { type: 'command'; body: CommandBody }
  | { type: 'commandResult'; body: CommandResultBody };

export interface FrameFields {
  version: number;
  flags: number;
  seq: number;
  session: number;
}

export type Frame = FrameFields & Message;

// ---- field tables shared by the decoder and the encoder's validation ----

/**
 * Field kinds: u = unsigned integer in [min, max], i = integer in [min, max], id = 1..64 of
 * [A-Za-z0-9._-], print = 1..32 printable ASCII, unit = 1..16 visible ASCII, text = any text,
 * sensors / readings / args / value = the nested forms of describe, data and commands.
 */
export type FieldKind =
  | 'u'
  | 'i'
  | 'id'
  | 'print'
  | 'unit'
  | 'text'
  | 'sensors'
  | 'readings'
  | 'args'
  | 'value';

export interface FieldSpec {
  key: number;
  name: string;
  kind: FieldKind;
  required: boolean;
  min?: number;
  max?: number;
}

const U32 = 0xffff_ffff;
const SAFE = Number.MAX_SAFE_INTEGER;

function f(
  key: number,
  name: string,
  kind: FieldKind,
  required: boolean,
  min?: number,
  max?: number,
): FieldSpec {
  const spec: FieldSpec = { key, name, kind, required };
  if (min !== undefined) spec.min = min;
  if (max !== undefined) spec.max = max;
  return spec;
}

export const BODY_FIELDS: Record<MessageTypeName, FieldSpec[]> = {
  hello: [
    f(0, 'deviceId', 'id', true),
    f(1, 'firmware', 'print', true),
    f(2, 'capabilities', 'u', true, 0, U32),
    f(3, 'maxFrame', 'u', false, 254, 65535),
  ],
  describe: [f(0, 'sensors', 'sensors', true)],
  data: [
    f(0, 'uptime', 'u', false, 0, SAFE),
    f(1, 'time', 'u', false, 0, SAFE),
    f(2, 'readings', 'readings', true),
  ],
  ack: [
    f(0, 'session', 'u', true, 0, U32),
    f(1, 'cumulative', 'u', true, 0, 0xffff),
    f(2, 'selective', 'u', false, 0, U32),
  ],
  timeRequest: [f(0, 'uptime', 'u', true, 0, SAFE)],
  timeResponse: [
    f(0, 'uptime', 'u', true, 0, SAFE),
    f(1, 'received', 'u', true, 0, SAFE),
    f(2, 'sent', 'u', true, 0, SAFE),
  ],
  error: [
    f(0, 'code', 'u', true, 0, 0xffff),
    f(1, 'message', 'text', false),
    f(2, 'seq', 'u', false, 0, 0xffff),
  ],
  log: [
    f(0, 'level', 'u', true, 0, 7),
    f(1, 'message', 'text', true),
    f(2, 'uptime', 'u', false, 0, SAFE),
  ],
  command: [f(0, 'id', 'u', true, 0, U32), f(1, 'name', 'id', true), f(2, 'args', 'args', false)],
  commandResult: [
    f(0, 'id', 'u', true, 0, U32),
    f(1, 'status', 'u', true, 0, 255),
    f(2, 'message', 'text', false),
    f(3, 'result', 'value', false),
  ],
};

export const SENSOR_FIELDS: FieldSpec[] = [
  f(0, 'alias', 'u', true, 0, 0xffff),
  f(1, 'name', 'id', true),
  f(2, 'unit', 'unit', false),
  f(3, 'scale', 'i', false, -12, 12),
];

/** Sensors in one describe frame [FP-5.3]. */
export const MAX_SENSORS = 128;
/** Readings in one data frame [FP-5.4], as many as metrics in one JSON message [FP-7.4]. */
export const MAX_READINGS = 64;

export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const PRINT_PATTERN = /^[\x20-\x7e]{1,32}$/;
const UNIT_PATTERN = /^[\x21-\x7e]{1,16}$/;

/** Checks a text field of kind id, print, unit or text [FP-5.1]. */
export function textOk(kind: FieldKind, s: string): boolean {
  if (kind === 'id') return ID_PATTERN.test(s);
  if (kind === 'print') return PRINT_PATTERN.test(s);
  if (kind === 'unit') return UNIT_PATTERN.test(s);
  return !/\p{Cs}/u.test(s);
}

export function expectedWhat(kind: FieldKind): string {
  if (kind === 'u') return 'an unsigned integer';
  if (kind === 'i') return 'an integer';
  if (kind === 'sensors') return 'an array';
  if (kind === 'readings' || kind === 'args') return 'a map';
  return 'text';
}
