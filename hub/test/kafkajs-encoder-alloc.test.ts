import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script in plain JavaScript, without types
import { kafkajsEncoderAlloc } from '../../scripts/build/kafkajs-encoder-alloc.mjs';
import { patchedModule } from './support/patched-module.ts';
import { mulberry32 } from './support/synthetic.ts';

// Both apps' bundles make kafkajs's Encoder buffers unfilled (Buffer.allocUnsafe, pooled when
// small: scripts/build/kafkajs-encoder-alloc.mjs). The zeros were never part of the output:
// produce requests encoded by kafkajs as published and as patched must be the same bytes,
// whatever the records (sizes across the pool's and the growth's edges, headers, gzip).

const require = createRequire(import.meta.url);
const PRODUCE = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
type Produce = (o: unknown) => { encode(): Promise<{ buffer: Buffer }> };
const original = require(PRODUCE) as Produce;
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as {
  Types: { None: number; GZIP: number };
};

/** The produce request module as the apps' builds make it (its Encoder patched). */
async function patched(): Promise<Produce> {
  const { exports, text } = await patchedModule<Produce>(PRODUCE, kafkajsEncoderAlloc);
  expect(text).toContain('this.buf = Buffer.allocUnsafe(');
  expect(text).not.toContain('Buffer.alloc(');
  return exports;
}

function bytes(random: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 1) b[i] = Math.floor(random() * 256);
  return b;
}

describe("kafkajs's encoder with unfilled buffers (the apps' builds)", () => {
  it('encodes every produce request to the same bytes as kafkajs', async () => {
    const withPatch = await patched();
    const random = mulberry32(7);
    const sizes = [0, 1, 511, 512, 4095, 4096, 8191, 70_000, 1_100_000];
    for (let round = 0; round < 40; round += 1) {
      const messages = Array.from({ length: 1 + Math.floor(random() * 30) }, () => ({
        key: random() < 0.2 ? null : bytes(random, Math.floor(random() * 40)),
        value: bytes(
          random,
          random() < 0.3
            ? (sizes[Math.floor(random() * sizes.length)] as number)
            : Math.floor(random() * 300),
        ),
        timestamp: 1_764_000_000_000 + Math.floor(random() * 1e6),
        headers: random() < 0.3 ? { 'iot-h': bytes(random, 5) } : undefined,
      }));
      const request = {
        acks: -1,
        timeout: 30_000,
        compression: random() < 0.5 ? Types.None : Types.GZIP,
        topicData: [
          { topic: 't', partitions: [{ partition: round % 3, firstSequence: round, messages }] },
        ],
      };
      const [a, b] = await Promise.all([original(request).encode(), withPatch(request).encode()]);
      expect(Buffer.compare(a.buffer, b.buffer)).toBe(0);
    }
  });
});
