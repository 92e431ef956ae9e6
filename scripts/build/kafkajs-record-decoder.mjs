import { readFileSync } from 'node:fs';

/**
 * kafkajs 2.2.4 (unmaintained) decodes each fetched record's timestamp delta as a Long, one
 * Long per varint byte and a few more to zigzag it, then adds it to the batch's first
 * timestamp and first offset by parsing their decimal strings into Longs and printing the sums
 * back: about a kilobyte of garbage a record, a quarter of all the hub allocates while
 * consuming (V8's sampling heap profiler over 200k records). The same fields are computed with
 * plain numbers whenever every value involved is a safe integer (timestamps in ms and offsets
 * below 2^53: always, in practice), else exactly as before. Fails the build when the code it
 * patches changes. hub/test/kafkajs-record-decoder.test.ts decodes records encoded by kafkajs
 * itself (edge cases and random ones) with both and compares every field.
 * A record without headers (the hub's readings) gets one shared, frozen empty object instead of
 * an empty array reduced into a new object: ~70 bytes a record that lived as long as the fetch.
 */
export const FROM = `  const timestampDelta = decoder.readVarLong()
  const timestamp =
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : Long.fromValue(firstTimestamp)
          .add(timestampDelta)
          .toString()

  const offsetDelta = decoder.readVarInt()
  const offset = Long.fromValue(firstOffset)
    .add(offsetDelta)
    .toString()
`;

const TO = `  const timestamp = iotTimestamp(
    decoder,
    firstTimestamp,
    timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : undefined
  )
  const offset = iotSum(firstOffset, decoder.readVarInt())
`;

const HELPERS = `
// iot-stream build patch (scripts/build/kafkajs-record-decoder.mjs): no Long unless needed.
/** The zigzag varlong at the decoder's position as a number when it has at most 7 bytes. */
function iotVarLong(decoder) {
  const buffer = decoder.buffer
  let offset = decoder.offset
  let result = 0
  let scale = 1
  for (let i = 0; i < 7; i++) {
    const byte = buffer[offset++]
    result += (byte & 0x7f) * scale
    scale *= 128
    if (byte < 0x80) {
      decoder.offset = offset
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2
    }
  }
  return undefined
}

/** first (a Long's decimal string: canonical) + delta, as kafkajs's Long would print it. */
function iotSum(first, delta) {
  const base = Number(first)
  const sum = base + delta
  if (Number.isSafeInteger(base) && Number.isSafeInteger(sum)) return String(sum)
  return Long.fromValue(first).add(delta).toString()
}

function iotTimestamp(decoder, firstTimestamp, appendTime) {
  const start = decoder.offset
  const delta = iotVarLong(decoder)
  if (delta === undefined) {
    decoder.offset = start
    const long = decoder.readVarLong()
    return appendTime !== undefined ? appendTime : Long.fromValue(firstTimestamp).add(long).toString()
  }
  return appendTime !== undefined ? appendTime : iotSum(firstTimestamp, delta)
}
`;

/** kafkajs's headers expression, kept as the path for records that have headers. */
export const HEADERS_FROM = 'const headers = decoder.readVarIntArray(HeaderDecoder).reduce(';
const HEADERS_TO =
  'const headers = iotNoHeaders(decoder) ? IOT_NO_HEADERS : decoder.readVarIntArray(HeaderDecoder).reduce(';

const HEADER_HELPERS = `
const IOT_NO_HEADERS = Object.freeze({})

/** A header count of 0 (the zigzag varint's one byte 0) at the decoder's position, consumed. */
function iotNoHeaders(decoder) {
  if (decoder.buffer[decoder.offset] !== 0) return false
  decoder.offset += 1
  return true
}
`;

export const kafkajsRecordDecoder = {
  name: 'kafkajs-record-decoder',
  setup(build) {
    build.onLoad(
      { filter: /kafkajs[\\/]src[\\/]protocol[\\/]recordBatch[\\/]record[\\/]v0[\\/]decoder\.js$/ },
      (args) => ({
        contents: patchRecordDecoder(readFileSync(args.path, 'utf8'), args.path),
        loader: 'js',
      }),
    );
  },
};

/** The patched source of kafkajs's record decoder (exported for the test). */
export function patchRecordDecoder(source, path = 'record/v0/decoder.js') {
  if (!source.includes(FROM) || !source.includes(HEADERS_FROM))
    throw new Error(`${path}: the record decoding patched is not found (kafkajs changed)`);
  return source.replace(FROM, TO).replace(HEADERS_FROM, HEADERS_TO) + HELPERS + HEADER_HELPERS;
}
