// Streaming decoder throughput: npx tsx firmware-protocol/bench/decode.ts [frames]
// Prints the best of 7 rounds; on a loaded machine run it a few times.
// Decodes a stream of typical data frames (uptime + 4 readings) fed in 4 KiB chunks, and
// compares with two baselines over the same data: zlib.crc32 over the bytes (the floor for
// any checked framing) and JSON.parse of the equivalent MQTT JSON payloads.

import { crc32 as zlibCrc32 } from 'node:zlib';
import { FrameDecoder } from '../src/decoder.ts';
import { encodeFrame } from '../src/encoder.ts';
import { formatJsonData } from '../src/mqtt.ts';

const count = Number(process.argv[2] ?? 200_000);
const frames: Uint8Array[] = [];
const json: string[] = [];
for (let i = 0; i < count; i++) {
  const readings: Array<[number, number]> = [
    [1, 200 + (i % 50)],
    [2, 400 + (i % 30)],
    [3, 101_325 - (i % 100)],
    [4, i % 2],
  ];
  frames.push(
    encodeFrame({
      version: 1,
      flags: 0,
      type: 'data',
      seq: i & 0xffff,
      session: 7,
      body: { uptime: i * 1000, readings },
    }),
  );
  json.push(
    formatJsonData({
      session: 7,
      seq: i & 0xffff,
      time: 1763787600000 + i * 1000,
      metrics: {
        temperature: { value: readings[0]![1] / 10, unit: 'Cel' },
        humidity: { value: readings[1]![1] / 10, unit: '%RH' },
        pressure: { value: readings[2]![1], unit: 'Pa' },
        door: { value: readings[3]![1] },
      },
    }),
  );
}
const stream = Buffer.concat(frames);
const mb = stream.length / 1e6;

/** Best of several rounds, the three measurements interleaved so that load hits them alike. */
function measure(fns: Array<() => number>, rounds = 7): number[] {
  for (const fn of fns) fn(); // warm-up
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const t0 = process.hrtime.bigint();
      fn();
      best[i] = Math.min(best[i]!, Number(process.hrtime.bigint() - t0) / 1e9);
    });
  }
  return best;
}

const decodeAll = (): number => {
  const dec = new FrameDecoder();
  let n = 0;
  for (let i = 0; i < stream.length; i += 4096) {
    for (const ev of dec.push(stream.subarray(i, i + 4096))) if (ev.kind === 'frame') n++;
  }
  return n;
};
if (decodeAll() !== count) throw new Error('not every frame decoded');
const [decodeSeconds, crcSeconds, parseSeconds] = measure([
  decodeAll,
  () => zlibCrc32(stream),
  () => {
    let n = 0;
    for (const s of json) n += (JSON.parse(s) as { seq: number }).seq >= 0 ? 1 : 0;
    return n;
  },
]) as [number, number, number];
const decode = { seconds: decodeSeconds };
const crc = { seconds: crcSeconds };
const parse = { seconds: parseSeconds };

const fps = (s: number): string => Math.round(count / s).toLocaleString('en-US');
const mbps = (bytes: number, s: number): string => (bytes / 1e6 / s).toFixed(1);
const jsonBytes = json.reduce((a, s) => a + s.length, 0);
console.log(
  `node ${process.version}, ${count} data frames of ${(stream.length / count).toFixed(1)} bytes on the wire (${mb.toFixed(1)} MB)`,
);
console.log(
  `FrameDecoder (COBS + CRC + CBOR + checks): ${fps(decode.seconds)} frames/s, ${mbps(stream.length, decode.seconds)} MB/s`,
);
console.log(
  `baseline zlib.crc32 over the same bytes:  ${mbps(stream.length, crc.seconds)} MB/s (${(decode.seconds / crc.seconds).toFixed(0)}x faster than decoding)`,
);
console.log(
  `baseline JSON.parse of the MQTT JSON form: ${fps(parse.seconds)} payloads/s, ${mbps(jsonBytes, parse.seconds)} MB/s of ${(jsonBytes / count).toFixed(0)}-byte payloads (decode/JSON.parse time ratio ${(decode.seconds / parse.seconds).toFixed(2)})`,
);
