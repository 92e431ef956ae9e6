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

describe('Window', () => {
  it('holds the last values in order, each once, the newest at newestSlot', () => {
    for (const capacity of [1, 2, 5, 8]) {
      const window = new Window(capacity);
      const all: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        window.push(i * 0.5 - 3);
        all.push(i * 0.5 - 3);
        const held = all.slice(-capacity);
        expect(window.size).toBe(held.length);
        expect([...window.toArray()]).toEqual(held);
        expect(held.map((_, k) => window.at(k))).toEqual(held);
        expect(window.buf[window.newestSlot]).toBe(held.at(-1));
        expect(window.buf.length).toBe(capacity); // once, not twice
      }
    }
  });
});
