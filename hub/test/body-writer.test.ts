import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyWriter } from '../src/influx/body-writer.ts';

describe('BodyWriter', () => {
  it('writes what Buffer.from writes for the joined pieces, numbers as String writes them', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }), // lone surrogates too
      fc.oneof(
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double(),
        fc.constantFrom(-0, 2 ** 53, 1e21, -1e21),
      ),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (pieces, initial) => {
          const w = new BodyWriter(initial);
          for (const p of pieces) {
            if (typeof p === 'number') w.number(p);
            else w.text(p);
          }
          const expected = Buffer.from(pieces.map(String).join(''));
          expect(w.length).toBe(expected.length);
          expect(w.take().equals(expected)).toBe(true);
          expect(w.length).toBe(0);
          w.char(0x41);
          expect(String(w.take())).toBe('A');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
