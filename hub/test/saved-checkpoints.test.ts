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
    saved.keep(0, '9', JSON.stringify(checkpoint('9')));
    saved.keep(0, '19', JSON.stringify(checkpoint('19')));
    expect(saved.get(0)).toEqual(checkpoint('19'));
    expect(saved.offset(0)).toBe('19');
    expect(saved.get(1)).toBeUndefined();
    expect(saved.durable(0)).toBe('-1'); // none acknowledged yet
    saved.acknowledged(0, '19');
    saved.acknowledged(0, '9'); // an older one's late acknowledgement changes nothing
    expect(saved.durable(0)).toBe('19');
  });
});
