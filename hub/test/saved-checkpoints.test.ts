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

  it('keeps the JSON until the gzip is done, then only the gzip; either gives it back', async () => {
    const saved = new SavedCheckpoints();
    saved.keep(0, '9', JSON.stringify(checkpoint('9')));
    saved.keep(0, '19', JSON.stringify(checkpoint('19')));
    const kept = () =>
      (saved as unknown as { saved: Map<number, { json?: string; gzip?: Buffer }> }).saved.get(0);
    expect(kept()?.json).toBeDefined(); // the gzip runs on libuv's threads: not done yet
    expect(saved.get(0)).toEqual(checkpoint('19'));
    for (let i = 0; i < 200 && kept()?.gzip === undefined; i += 1)
      await new Promise((r) => setTimeout(r, 10));
    expect(kept()?.json).toBeUndefined();
    expect(kept()?.gzip?.length).toBeLessThan(JSON.stringify(checkpoint('19')).length / 4);
    // The older checkpoint's gzip, finished too, did not take the newer one's place.
    expect(saved.get(0)).toEqual(checkpoint('19'));
  });
});
