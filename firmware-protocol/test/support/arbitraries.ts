// fast-check generators of valid frames, shared by the property and differential tests.

import fc from 'fast-check';
import type { Frame, JsonValue, MessageTypeName } from '../../src/messages.ts';
import { rawFrameBytes } from './raw-frame.ts';

const id = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const printable = fc.stringMatching(/^[\x20-\x7e]{1,32}$/);
const unit = fc.constantFrom(
  'Cel',
  '%RH',
  'Pa',
  'm/s2',
  'W',
  'V',
  'A',
  'lx',
  'ppm',
  '%',
  '1',
  'dB',
);
const text = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const u32 = fc.nat({ max: 0xffff_ffff });
const u16 = fc.nat({ max: 0xffff });
const ms = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());
const int = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger());

const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    int,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const args = fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 });

const sensor = fc.record(
  { alias: u16, name: id, unit, scale: fc.integer({ min: -12, max: 12 }) },
  { requiredKeys: ['alias', 'name'] },
);

const bodies: Record<MessageTypeName, fc.Arbitrary<unknown>> = {
  hello: fc.record(
    {
      deviceId: id,
      firmware: printable,
      capabilities: u32,
      maxFrame: fc.integer({ min: 254, max: 65535 }),
    },
    { requiredKeys: ['deviceId', 'firmware', 'capabilities'] },
  ),
  describe: fc.record({
    sensors: fc.uniqueArray(sensor, { selector: (s) => s.alias, maxLength: 6 }),
  }),
  data: fc.record(
    {
      uptime: ms,
      time: ms,
      readings: fc
        .uniqueArray(fc.tuple(u16, int), { selector: (r) => r[0], maxLength: 12 })
        .map((rs) => rs.sort((a, b) => a[0] - b[0])),
    },
    { requiredKeys: ['readings'] },
  ),
  ack: fc.record(
    { session: u32, cumulative: u16, selective: u32 },
    { requiredKeys: ['session', 'cumulative'] },
  ),
  timeRequest: fc.record({ uptime: ms }),
  timeResponse: fc.record({ uptime: ms, received: ms, sent: ms }),
  error: fc.record({ code: u16, message: text, seq: u16 }, { requiredKeys: ['code'] }),
  log: fc.record(
    { level: fc.nat({ max: 7 }), message: text, uptime: ms },
    { requiredKeys: ['level', 'message'] },
  ),
  command: fc.record({ id: u32, name: id, args }, { requiredKeys: ['id', 'name'] }),
  commandResult: fc.record(
    { id: u32, status: fc.nat({ max: 255 }), message: text, result: jsonValue },
    { requiredKeys: ['id', 'status'] },
  ),
};

/** Any valid frame (it may exceed 254 bytes: encode with a larger maximum). */
export const frameArb: fc.Arbitrary<Frame> = fc
  .constantFrom(...(Object.keys(bodies) as MessageTypeName[]))
  .chain((type) =>
    fc.record({
      version: fc.constant(1),
      flags: fc.constantFrom(0, 0x10, 0x20, 0x30, 0xf0),
      type: fc.constant(type),
      seq: u16,
      session: u32,
      body: bodies[type],
    }),
  ) as fc.Arbitrary<Frame>;

/** Bytes with many zeros, small values and CBOR heads, to reach the decoder's corners. */
export const noisyBytes = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc
    .array(
      fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom(0x18, 0x19, 0x1a, 0x1b, 0x60, 0x78, 0x80, 0xa0, 0xa1, 0xa2, 0xff),
        fc.integer({ min: 0, max: 255 }),
      ),
      { maxLength },
    )
    .map((a) => Uint8Array.from(a));

/** A frame with a valid CRC around an arbitrary payload: reaches every payload check. */
export const crcValidFrameArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    type: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 255 })),
    seq: u16,
    session: fc.constantFrom(1, 2),
    payload: fc.oneof(
      noisyBytes(40),
      fc
        .array(fc.integer({ min: 0xa0, max: 0xa4 }), { minLength: 1, maxLength: 1 })
        .chain((head) => noisyBytes(30).map((rest) => Uint8Array.of(...head, ...rest))),
    ),
    flags: fc.constantFrom(0, 0, 0, 0x10, 0x01),
    version: fc.constantFrom(1, 1, 1, 1, 2),
  })
  .map((f) => rawFrameBytes(f, f.payload));
