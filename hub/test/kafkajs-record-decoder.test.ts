import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { kafkajsRecordDecoder } from '../../scripts/build/kafkajs-record-decoder.mjs';
import { patchedModule } from './support/patched-module.ts';
import { mulberry32 } from './support/synthetic.ts';

// The hub's bundle replaces kafkajs's record decoding of timestamps and offsets (Longs) with
// plain numbers where they are exact (scripts/build/kafkajs-record-decoder.mjs). Records
// encoded by kafkajs itself, decoded by its own decoder and by the patched one built with the
// plugin, must give the same fields, every one.

const require = createRequire(import.meta.url);
const DECODER = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
type RecordDecoder = (decoder: unknown, context: Record<string, unknown>) => unknown;
const original = require(DECODER) as RecordDecoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (
  b: Buffer,
) => {
  readVarIntBytes(): Buffer;
  offset: number;
};
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[]>;
}) => { buffer: Buffer };
const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): unknown };
const { LOG_APPEND_TIME, CREATE_TIME } = require('kafkajs/src/protocol/timestampTypes.js') as {
  LOG_APPEND_TIME: number;
  CREATE_TIME: number;
};

/** The decoder module as the hub's build makes it (the plugin applied by esbuild). */
async function patched(): Promise<RecordDecoder> {
  const { exports, text } = await patchedModule<RecordDecoder>(DECODER, kafkajsRecordDecoder);
  expect(text).toContain('iotVarLong');
  expect(text).toContain('iotNoHeaders');
  return exports;
}

/** Decodes one encoded record (its length prefix first, as the batch decoder does). */
function decode(with_: RecordDecoder, bytes: Buffer, context: Record<string, unknown>) {
  const outer = new Decoder(bytes);
  const inner = new Decoder(outer.readVarIntBytes());
  const record = with_(inner, context);
  return { record, consumed: inner.offset };
}

const DELTAS: unknown[] = [
  0,
  1,
  -1,
  63,
  -64,
  64,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 41 + 12_345,
  2 ** 48 - 1,
  -(2 ** 48),
  2 ** 48, // 8 bytes as a zigzag varlong: the Long path
  Long.fromString('9007199254740993'),
  Long.fromString('-9223372036854775808'),
];
const FIRST_TIMESTAMPS = ['1796448596672', '0', '-1', '9007199254740991', '9007199254740993'];
const FIRST_OFFSETS = ['0', '41', '123456789012', '9007199254740990', '9223372036854775000'];

describe("kafkajs's record decoder, patched for the hub's bundle", () => {
  it('decodes every field as kafkajs does: edge cases, then random records', async () => {
    const fast = await patched();
    const rnd = mulberry32(11);
    const cases: Array<{ delta: unknown; offsetDelta: number; first: string; offset: string }> = [];
    for (const delta of DELTAS)
      for (const first of FIRST_TIMESTAMPS)
        for (const offset of FIRST_OFFSETS)
          cases.push({ delta, first, offset, offsetDelta: Math.floor(rnd() * 2 ** 31) });
    for (let i = 0; i < 2000; i += 1)
      cases.push({
        delta: Math.floor((rnd() - 0.5) * 2 ** Math.floor(rnd() * 50)),
        offsetDelta: Math.floor(rnd() * 2 ** Math.floor(rnd() * 31)),
        first: String(1_700_000_000_000 + Math.floor(rnd() * 1e11)),
        offset: String(Math.floor(rnd() * 2 ** Math.floor(rnd() * 53))),
      });
    let compared = 0;
    for (const [n, c] of cases.entries()) {
      const headers: Record<string, Buffer | Buffer[]> =
        n % 3 === 0
          ? {}
          : n % 3 === 1
            ? { a: Buffer.from('x') }
            : { b: [Buffer.from('1'), Buffer.from('2')] };
      const bytes = encodeRecord({
        timestampDelta: c.delta,
        offsetDelta: c.offsetDelta,
        key: n % 5 === 0 ? null : Buffer.from(`dev-${n}`),
        value: Buffer.from(JSON.stringify({ n })),
        headers,
      }).buffer;
      for (const appendTime of [false, true]) {
        const context = {
          firstOffset: c.offset,
          firstTimestamp: c.first,
          magicByte: 2,
          timestampType: appendTime ? LOG_APPEND_TIME : CREATE_TIME,
          maxTimestamp: '1796448599999',
        };
        expect(decode(fast, bytes, context)).toEqual(decode(original, bytes, context));
        compared += 1;
      }
    }
    expect(compared).toBe(2 * cases.length);
  });

  it('refuses to build when the code it patches is not there', async () => {
    const { patchRecordDecoder } = await import(
      // @ts-expect-error: a build script in plain JavaScript, without types
      '../../scripts/build/kafkajs-record-decoder.mjs'
    );
    expect(() => patchRecordDecoder('module.exports = () => ({})')).toThrow(/kafkajs changed/);
  });
});
