// Writes vectors/*.json: the shared test vectors read by the TypeScript and the C tests.
// Inputs are chosen by hand here; expected outputs come from the TypeScript codec and are
// checked against independent oracles (zlib.crc32, cbor2, a second COBS) in vectors.test.ts
// and against the C reference by `make -C c test`. Run after changing the codec on purpose:
//   npx tsx firmware-protocol/test/support/generate-vectors.ts
//   npx biome check --write firmware-protocol/vectors

import { writeFileSync } from 'node:fs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { cborDecode } from '../../src/cbor.ts';
import { cobsEncode } from '../../src/cobs.ts';
import { FrameDecoder } from '../../src/decoder.ts';
import { tryEncodeFrame } from '../../src/encoder.ts';
import { eventJson, frameJson, fromHex, statsJson, toHex } from '../../src/json.ts';
import { decodeBody } from '../../src/message-decode.ts';
import { encodeBody } from '../../src/message-encode.ts';
import type { Frame, MessageTypeName } from '../../src/messages.ts';
import { rawFrameBytes } from './raw-frame.ts';
import { encodeFail, ignoredKeys, payloadFail } from './vector-inputs.ts';

const dir = new URL('../../vectors/', import.meta.url);
const write = (name: string, text: string): void => writeFileSync(new URL(name, dir), `${text}\n`);
const bytes = (n: number, f: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => f(i));
const str = JSON.stringify;

// ---- crc.json ----
const crcInputs: Array<[string, Uint8Array]> = [
  ['check value "123456789"', new TextEncoder().encode('123456789')],
  ['empty', new Uint8Array(0)],
  ['one zero byte', new Uint8Array(1)],
  ['bytes 0..255', bytes(256, (i) => i)],
  ['1000 bytes of 0xff', bytes(1000, () => 0xff)],
];
write(
  'crc.json',
  `{"description":"CRC-32 (zlib polynomial) over hex input [FP-3.8]; expected values from zlib.crc32","vectors":[\n${crcInputs
    .map(([name, b]) => str({ name, hex: toHex(b), crc: zlibCrc32(b) }))
    .join(',\n')}\n]}`,
);

// ---- cobs.json ----
const nz = (n: number): Uint8Array => bytes(n, (i) => (i % 255) + 1);
const cobsInputs: Array<[string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['one zero', new Uint8Array(1)],
  ['two zeros', new Uint8Array(2)],
  ['one non-zero', Uint8Array.of(0x11)],
  ['zero in the middle', Uint8Array.of(0x11, 0x22, 0x00, 0x33)],
  ['trailing zero', Uint8Array.of(0x11, 0x22, 0x33, 0x00)],
  ['253 non-zero', nz(253)],
  ['254 non-zero', nz(254)],
  ['255 non-zero', nz(255)],
  ['256 non-zero', nz(256)],
  ['508 non-zero', nz(508)],
  ['509 non-zero', nz(509)],
  ['253 non-zero then zero', Uint8Array.of(...nz(253), 0)],
  ['254 non-zero then zero', Uint8Array.of(...nz(254), 0)],
  ['zero then 254 non-zero', Uint8Array.of(0, ...nz(254))],
  ['254 zeros', new Uint8Array(254)],
  ['bytes 0..255', bytes(256, (i) => i)],
];
const cobsFail = [
  ['block overruns (ff ee)', 'ffee', 0],
  ['block overruns (05 01 02)', '050102', 0],
  ['second block overruns', '0211030a', 2],
  ['code with no data', '02', 0],
];
write(
  'cobs.json',
  `{"description":"COBS without the 0x00 delimiter [FP-2.1]; fail: decoding must fail at the code byte 'at' [FP-2.5]","roundtrip":[\n${cobsInputs
    .map(([name, b]) => str({ name, decoded: toHex(b), encoded: toHex(cobsEncode(b)) }))
    .join(
      ',\n',
    )}\n],"decodeOnly":[\n${str({ name: '254 non-zero with a redundant final 01', encoded: `ff${toHex(nz(254))}01`, decoded: toHex(nz(254)) })}\n],"fail":[\n${cobsFail
    .map(([name, encoded, at]) => str({ name, encoded, at }))
    .join(',\n')}\n]}`,
);

// ---- frames.json ----
const S = 0xdeadbeef;
const F = (type: MessageTypeName, body: unknown, extra: Record<string, number> = {}): Frame =>
  ({ version: 1, flags: 0, type, seq: 1, session: S, body, ...extra }) as unknown as Frame;
const frames: Array<[string, Frame, number?]> = [
  [
    'hello',
    F(
      'hello',
      { deviceId: 'esp32-a1b2c3', firmware: '1.4.2', capabilities: 0x1e, maxFrame: 1024 },
      { seq: 0 },
    ),
  ],
  [
    'hello without maxFrame',
    F('hello', { deviceId: 'uno-7', firmware: '0.1', capabilities: 0 }, { seq: 0 }),
  ],
  [
    'describe',
    F('describe', {
      sensors: [
        { alias: 1, name: 'temperature', unit: 'Cel', scale: -1 },
        { alias: 2, name: 'humidity', unit: '%RH', scale: -1 },
        { alias: 3, name: 'pressure', unit: 'Pa' },
        { alias: 300, name: 'door.open' },
      ],
    }),
  ],
  [
    'data with uptime',
    F(
      'data',
      {
        uptime: 123456,
        readings: [
          [1, 215],
          [2, 402],
          [3, 101325],
        ],
      },
      { seq: 17, flags: 0x10 },
    ),
  ],
  [
    'data with epoch time',
    F('data', {
      time: 1763787600000,
      readings: [
        [1, -40],
        [300, 1],
      ],
    }),
  ],
  ['data with no readings', F('data', { readings: [] })],
  [
    'data with large values',
    F('data', {
      readings: [
        [0, 9007199254740991],
        [65535, -9007199254740991],
      ],
    }),
  ],
  ['ack', F('ack', { session: 0x12345678, cumulative: 65535, selective: 5 })],
  ['ack without selective', F('ack', { session: 0, cumulative: 0 })],
  ['time request', F('timeRequest', { uptime: 5000 })],
  [
    'time response',
    F('timeResponse', { uptime: 5000, received: 1763787600000, sent: 1763787600002 }),
  ],
  ['error', F('error', { code: 6, message: 'unknown alias 9', seq: 17 })],
  [
    'log with unicode',
    F('log', { level: 2, message: 'Température > 30 °C\n"quoted"\t\u0001', uptime: 99 }),
  ],
  [
    'command',
    F('command', {
      id: 7,
      name: 'set-interval',
      args: {
        ms: 1000,
        'x-list': [1, 'two', true, null],
        nested: { a: -1 },
        '10': 'numeric-looking key',
      },
    }),
  ],
  ['command without args', F('command', { id: 8, name: 'reboot' })],
  [
    'command result',
    F('commandResult', { id: 7, status: 0, message: 'ok', result: [1, { b: false }] }),
  ],
  [
    'retransmission flag',
    F('data', { readings: [[1, 1]] }, { flags: 0x30, seq: 65535, session: 0 }),
  ],
  [
    'may-ignore flags',
    F('ack', { session: 1, cumulative: 2 }, { flags: 0xc0, session: 0xffffffff }),
  ],
  ['254-byte frame (COBS boundary)', F('log', { level: 1, message: 'x'.repeat(235) })],
  ['253-byte frame', F('log', { level: 1, message: 'x'.repeat(234) })],
  ['255-byte frame with maxFrame 1000', F('log', { level: 1, message: 'x'.repeat(236) }), 1000],
  ['600-byte frame with maxFrame 1000', F('log', { level: 1, message: 'y'.repeat(580) }), 1000],
];
const frameEntries = frames.map(([name, frame, maxFrame]) => {
  const r = tryEncodeFrame(frame, maxFrame ?? 254);
  if (!r.ok) throw new Error(`${name}: ${r.reason}`);
  const want = /(\d+)-byte/.exec(name)?.[1];
  if (want && Number(want) !== r.bytes.length) throw new Error(`${name}: ${r.bytes.length} bytes`);
  const mf = maxFrame === undefined ? '' : `,"maxFrame":${maxFrame}`;
  return `{"name":${str(name)}${mf},"length":${r.bytes.length},"frame":${frameJson(frame)},"wire":"${toHex(r.wire)}"}`;
});
write(
  'frames.json',
  `{"description":"frame JSON (as decode prints it, without offset) <-> wire bytes (COBS + 0x00) [FP-3.1]; length is the unframed size","vectors":[\n${frameEntries.join(',\n')}\n]}`,
);

// ---- payloads.json ----
const payloadValid = frames.slice(0, 16).map(([name, frame]) => {
  const r = encodeBody(frame.type, frame.body);
  if (!r.ok) throw new Error(name);
  const body = frameJson(frame)
    .replace(/^.*"body":/, '')
    .slice(0, -1);
  return `{"name":${str(name)},"type":"${frame.type}","body":${body},"hex":"${toHex(r.payload)}"}`;
});
function payloadOutcome(
  type: MessageTypeName,
  hex: string,
): { error?: string; reason?: string; body?: string } {
  const b = fromHex(hex);
  if (!b) throw new Error(`bad hex ${hex}`);
  const c = cborDecode(b);
  if (!c.ok) return { error: c.code, reason: c.reason };
  const m = decodeBody(type, c.value);
  if (!m.ok) return { error: 'PAYLOAD_INVALID', reason: m.reason };
  const frame = { version: 1, flags: 0, seq: 0, session: 0, ...m.message } as Frame;
  return {
    body: frameJson(frame)
      .replace(/^.*"body":/, '')
      .slice(0, -1),
  };
}
const ignoredEntries = ignoredKeys.map(([name, type, hex]) => {
  const o = payloadOutcome(type, hex);
  if (o.body === undefined) throw new Error(`${name}: ${o.reason}`);
  return `{"name":${str(name)},"type":"${type}","hex":"${hex}","body":${o.body}}`;
});
const failEntries = payloadFail.map(([name, type, hex]) => {
  const o = payloadOutcome(type, hex);
  if (process.env.VERBOSE) console.log(name.padEnd(42), o.error ?? 'DECODED', o.reason ?? o.body);
  if (o.error === undefined) throw new Error(`${name} decoded: ${o.body}`);
  return str({ name, type, hex, error: o.error, reason: o.reason });
});
write(
  'payloads.json',
  `{"description":"payloads (CBOR, no header) of each type [FP-4], [FP-5]: valid encode to hex and back; decodeOnly have unknown keys that are ignored [FP-5.1]; fail must be rejected with this code and reason","valid":[\n${payloadValid.join(',\n')}\n],"decodeOnly":[\n${ignoredEntries.join(',\n')}\n],"fail":[\n${failEntries.join(',\n')}\n]}`,
);

// ---- streams.json ----
const rawFrame = (
  h: { version?: number; flags?: number; type: number; seq: number; session: number },
  payloadHex: string,
  crcXor = 0,
): Uint8Array => rawFrameBytes(h, fromHex(payloadHex)!, crcXor);
const wireOf = (raw: Uint8Array): string => `${toHex(cobsEncode(raw))}00`;
const data = (seq: number, session = 7, readings: Array<[number, number]> = [[1, seq]]): string => {
  const r = tryEncodeFrame({ type: 'data', seq, session, body: { readings } }, 1000);
  if (!r.ok) throw new Error(r.reason);
  return toHex(r.wire);
};
const dataPayload = 'a102a10101';
const streams: Array<[string, string, number?]> = [
  ['two frames', data(0) + data(1)],
  ['leading 0x00 and empty frames are ignored', `0000${data(0)}00${data(1)}0000`],
  ['garbage then a delimiter, then a frame', `deadbeef0102030400${data(0)}`],
  ['garbage glued to a frame loses that frame only', `4141${data(0)}${data(1)}`],
  ['garbage between frames', `${data(0)}ffffff00${data(1)}`],
  ['one corrupted byte: CRC mismatch', data(0) + data(1).replace(/^(.{12})../, '$1ee') + data(2)],
  ['truncated at the end of the stream', data(0) + data(1).slice(0, 20)],
  ['frame shorter than 13 bytes', `0301020000${data(0)}`],
  ['oversize garbage is cut at the limit and reported once', `${'41'.repeat(300)}00${data(0)}`],
  ['oversize garbage at the end of the stream', `${data(0)}${'42'.repeat(400)}`],
  [
    '255-byte frame over the default limit',
    `${wireOf(rawFrame({ type: 8, seq: 0, session: 1 }, `a2000101${'78ec'}${'78'.repeat(236)}`))}${data(0)}`,
  ],
  [
    '600-byte frame accepted with maxFrame 1000',
    `${toHex((tryEncodeFrame({ type: 'log', seq: 0, session: 1, body: { level: 1, message: 'z'.repeat(580) } }, 1000) as { wire: Uint8Array }).wire)}${data(1)}`,
    1000,
  ],
  ['COBS block overrun', `05010203${data(0)}`],
  [
    'unsupported version',
    wireOf(rawFrame({ version: 2, type: 3, seq: 0, session: 7 }, dataPayload)) + data(1),
  ],
  [
    'unsupported must-understand flag',
    wireOf(rawFrame({ flags: 0x11, type: 3, seq: 0, session: 7 }, dataPayload)) + data(1),
  ],
  [
    'unknown message type keeps the sequence',
    data(0) + wireOf(rawFrame({ type: 42, seq: 1, session: 7 }, 'a0')) + data(2),
  ],
  ['message type 0 is unknown', wireOf(rawFrame({ type: 0, seq: 0, session: 7 }, 'a0'))],
  ['non-canonical payload', wireOf(rawFrame({ type: 3, seq: 0, session: 7 }, 'a1021800'))],
  [
    'invalid payload keeps the sequence',
    data(0) + wireOf(rawFrame({ type: 3, seq: 1, session: 7 }, 'a0')) + data(2),
  ],
  ['gap: two frames lost', data(0) + data(1) + data(4)],
  ['duplicate', data(0) + data(1) + data(1) + data(2)],
  ['late retransmission recovers a gap', data(0) + data(3) + data(1) + data(2) + data(1)],
  ['sequence wraps at 65535', data(65534) + data(65535) + data(0) + data(1)],
  ['new session is a reboot', data(0, 7) + data(1, 7) + data(0, 8) + data(1, 8)],
  [
    'bad CRC on a valid-looking frame',
    wireOf(rawFrame({ type: 3, seq: 0, session: 7 }, dataPayload, 1)),
  ],
];
const streamEntries = streams.map(([name, hex, maxFrame]) => {
  const dec = new FrameDecoder({ maxFrame: maxFrame ?? 254 });
  const input = fromHex(hex)!;
  const lines = [...dec.push(input), ...dec.end()].map(eventJson);
  const mf = maxFrame === undefined ? '' : `,"maxFrame":${maxFrame}`;
  return `{"name":${str(name)}${mf},"hex":"${hex}","output":[\n${lines.join(',\n')}\n],"stats":${statsJson(dec.counters).slice(9, -1)}}`;
});
write(
  'streams.json',
  `{"description":"byte streams -> decode output lines and counters [FP-2], [FP-3.10], [FP-6.1]; every chunking of the input must give the same result","vectors":[\n${streamEntries.join(',\n')}\n]}`,
);

// ---- encode-fail.json ----
for (const [name, line] of encodeFail) {
  let ok = false;
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    ok = v.raw === undefined && tryEncodeFrame(v).ok;
  } catch {}
  if (ok) throw new Error(`encode-fail vector encodes: ${name}`);
}
write(
  'encode-fail.json',
  `{"description":"encode input lines that both encoders must refuse (exit code 1, nothing written) [FP-8.3]","vectors":[\n${encodeFail
    .map(([name, line]) => str({ name, line }))
    .join(',\n')}\n]}`,
);
console.log('vectors written');
