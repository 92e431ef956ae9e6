import { describe, expect, it } from 'vitest';
import { SavedCheckpoints } from '../src/pipeline/saved-checkpoints.ts';
import type { Checkpoint } from '../src/ports.ts';

const checkpoint = (offset: string): Checkpoint => ({
  v: 1,
  offset,
  state: { ids: Array.from({ length: 500 }, (_, i) => `g:gw-1:${i}`) },
});

describe('saved checkpoints', () => {
  it('gives back the newest checkpoint of a partition; only acknowledged ones are durable', () => {
    const saved = new SavedCheckpoints();
    saved.keep(0, '9', JSON.stringify(checkpoint('9')), false);
    saved.keep(0, '19', JSON.stringify(checkpoint('19')), false);
    expect(saved.get(0)).toEqual(checkpoint('19'));
    expect(saved.offset(0)).toBe('19');
    expect(saved.get(1)).toBeUndefined();
    expect(saved.durable(0)).toBe('-1'); // none acknowledged yet
    saved.acknowledged(0, '19');
    saved.acknowledged(0, '9'); // an older one's late acknowledgement changes nothing
    expect(saved.durable(0)).toBe('19');
  });

  it('lets a copy go once the store acknowledged it, unless held or superseded', () => {
    const saved = new SavedCheckpoints();
    const first = saved.keep(0, '9', JSON.stringify(checkpoint('9')), false);
    const second = saved.keep(0, '19', JSON.stringify(checkpoint('19')), false);
    saved.acknowledged(0, '9', first); // an older one's: the newest stays
    expect(saved.get(0)).toEqual(checkpoint('19'));
    saved.acknowledged(0, '19', second);
    expect(saved.get(0)).toBeUndefined(); // the store has it
    expect(saved.has(0)).toBe(true);
    expect(saved.offset(0)).toBe('19');
    expect(saved.durable(0)).toBe('19');
    const held = saved.keep(1, '5', JSON.stringify(checkpoint('5')), true); // pending notifications
    saved.acknowledged(1, '5', held);
    expect(saved.get(1)).toEqual(checkpoint('5'));
    expect(saved.has(2)).toBe(false);
  });
});
