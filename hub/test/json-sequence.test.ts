import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionProcessor } from '../src/processing/partition-processor.ts';
import { encodeJson, JsonSequence } from '../src/state/json-sequence.ts';
import { PROCESSOR, stream } from './support/pipeline-fixture.ts';

// A checkpoint is encoded piecewise (encodeJson over a lazy snapshot): it must be the very
// bytes JSON.stringify writes of the eager snapshot, which restore() and older hubs read.

describe('encodeJson', () => {
  it('writes a partition processor lazy snapshot as JSON.stringify writes the eager one', () => {
    const p = new PartitionProcessor({
      ...PROCESSOR,
      sites: [{ name: 'north', devices: ['dev-1'] }],
    });
    const records = stream(1500);
    for (let i = 0; i < records.length; i += 100) {
      p.process(records.slice(i, i + 100));
      const checkpoint = { v: 1, offset: String(i), state: p.snapshot(true), pending: [] };
      const eager = { v: 1, offset: String(i), state: p.snapshot(), pending: [] };
      const bytes = encodeJson(checkpoint);
      expect(bytes.toString()).toBe(JSON.stringify(eager));
      expect(JSON.stringify(checkpoint)).toBe(JSON.stringify(eager)); // toJSON: the same
    }
    const restored = new PartitionProcessor(PROCESSOR);
    restored.restore(JSON.parse(encodeJson(p.snapshot(true)).toString()));
    expect(restored.snapshot()).toEqual(p.snapshot());
  });

  it('matches JSON.stringify on any JSON value, with arrays of it as sequences anywhere', () => {
    const lazyArrays = (v: unknown, deep: boolean): unknown => {
      if (Array.isArray(v)) {
        const items = v.map((x) => lazyArrays(x, deep));
        return deep ? new JsonSequence(() => items) : items;
      }
      if (typeof v === 'object' && v !== null)
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lazyArrays(x, true)]));
      return v;
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, top) => {
        const text = JSON.stringify(value);
        expect(encodeJson(lazyArrays(value, top)).toString()).toBe(text);
        expect(encodeJson(value).toString()).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('skips what JSON.stringify skips, writes null where it does, and counts bytes as UTF-8', () => {
    const value = {
      a: undefined,
      f: () => 1,
      s: Symbol('x'),
      list: new JsonSequence(() => [1, undefined, () => 2, 'é€😀']),
      date: new Date(0),
      gone: { toJSON: () => undefined }, // JSON.stringify drops the key
      nested: { deeper: { list: new JsonSequence(() => [{ toJSON: () => undefined }]) } },
      many: Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`k${i}`, new JsonSequence(() => [i])]),
      ),
    };
    const bytes = encodeJson(value);
    expect(bytes.toString()).toBe(JSON.stringify(value));
    expect(bytes.length).toBe(Buffer.byteLength(JSON.stringify(value)));
    expect(() => encodeJson(undefined)).toThrow(TypeError);
    expect(() => encodeJson({ toJSON: () => undefined })).toThrow(TypeError);
    // A long array written whole is counted, not reserved at three bytes a character.
    const eager = { items: Array.from({ length: 20_000 }, (_, i) => i) };
    const bytes2 = encodeJson(eager);
    expect(bytes2.toString()).toBe(JSON.stringify(eager));
    expect(bytes2.buffer.byteLength).toBeLessThan(2 * bytes2.length + 256 * 1024);
  });

  it('makes a long sequence: the same bytes past the first buffer (256 KB) as it grows', () => {
    const items = Array.from({ length: 9000 }, (_, i) => ({ i, text: 'é'.repeat(i % 97) }));
    const bytes = encodeJson({ items: new JsonSequence(() => items) });
    expect(bytes.length).toBeGreaterThan(600_000);
    expect(bytes.toString()).toBe(JSON.stringify({ items }));
  });
});
