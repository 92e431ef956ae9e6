import { describe, expect, it } from 'vitest';
import { Ring, Window } from '../src/detect/floats.ts';

describe('Ring', () => {
  it('holds the same values as Window, snapshots them oldest first, and evicts the same next', () => {
    for (const capacity of [1, 3, 7]) {
      const ring = new Ring(capacity);
      const window = new Window(capacity);
      for (let i = 0; i < 25; i += 1) {
        ring.push(i * 1.5);
        window.push(i * 1.5);
        expect(ring.size).toBe(window.size);
        expect([...ring.toArray()]).toEqual([...window.toArray()]);
        expect([...ring.buf.subarray(0, ring.size)].sort((a, b) => a - b)).toEqual(
          [...window.toArray()].sort((a, b) => a - b),
        );
        // Restored from its snapshot, it goes on as the original does.
        const copy = new Ring(capacity);
        copy.load(ring.toArray());
        copy.push(-1);
        const original = new Window(capacity);
        original.load(window.toArray());
        original.push(-1);
        expect([...copy.toArray()]).toEqual([...original.toArray()]);
      }
    }
  });
});
