import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { IdleTicker } from '../src/pipeline/idle-ticker.ts';

describe('IdleTicker', () => {
  it('has the pipeline punctuate quiet partitions, never two rounds at once, and survives a failure', async () => {
    const calls: number[] = [];
    let release: (() => void) | undefined;
    let fail = false;
    const ticker = new IdleTicker({
      quietMs: 10_000,
      punctuate: (quietMs) => {
        calls.push(quietMs);
        if (fail) return Promise.reject(new Error('checkpoint store down'));
        return new Promise<number>((resolve) => {
          release = () => resolve(2);
        });
      },
      log: pino({ level: 'silent' }),
    });
    const first = ticker.tick();
    const second = ticker.tick(); // the same round, not a second one
    expect(calls).toEqual([10_000]);
    release?.();
    await Promise.all([first, second]);
    expect(ticker.counters.punctuations).toBe(2);
    fail = true;
    await ticker.tick(); // logged, not thrown
    expect(calls).toHaveLength(2);
    await ticker.stop();
  });
});
