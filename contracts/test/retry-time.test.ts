import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  IotError,
  parseDuration,
  parseTimestamp,
  retry,
  seededRandom,
  YEAR_9999_END,
} from '../src/index.ts';

describe('retry', () => {
  const noWait = async () => true;

  it('retries until it succeeds, with exponential backoff, capped', async () => {
    const delays: number[] = [];
    const r = await retry(
      async (attempt) => {
        if (attempt < 6) throw new Error('down');
        return attempt;
      },
      { minMs: 100, maxMs: 1000, onRetry: (_e, _a, d) => delays.push(d), wait: noWait },
    );
    expect(r).toBe(6);
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
  });

  it('stops at once on an error marked not retriable, and after `attempts`', async () => {
    let calls = 0;
    const fatal = new IotError('X', 'no', { retriable: false });
    await expect(
      retry(
        async () => {
          calls += 1;
          throw fatal;
        },
        { minMs: 1, maxMs: 1, wait: noWait },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new Error('down');
        },
        { minMs: 1, maxMs: 1, attempts: 3, wait: noWait },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
  });

  it('stops waiting when the signal aborts (shutdown)', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const run = retry(
      async () => {
        throw new Error('down');
      },
      { minMs: 60_000, maxMs: 60_000, signal: stop.signal },
    );
    setTimeout(() => stop.abort(), 20);
    await expect(run).rejects.toThrow('down');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('jitters between half and all of the delay when given a random source', () => {
    const r = seededRandom(1);
    for (let a = 1; a < 10; a += 1) {
      const d = backoffMs(a, { minMs: 100, maxMs: 10_000, random: r });
      const ceiling = Math.min(10_000, 100 * 2 ** (a - 1));
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('time and duration text', () => {
  it('parses epoch ms and ISO-8601 (UTC without an offset), within the year range', () => {
    const t = Date.UTC(2026, 10, 22, 12);
    for (const text of [
      String(t),
      '2026-11-22T12:00:00Z',
      '2026-11-22T12:00:00',
      '2026-11-22 12:00:00',
      '2026-11-22T13:00:00+01:00',
      '2026-11-22T13:00:00+0100',
      '2026-11-22T12:00:00.000000Z',
    ])
      expect(parseTimestamp(text), text).toBe(t);
    for (const text of ['yesterday', '2026-13', '', '1e12', '99999999999999999'])
      expect(parseTimestamp(text), text).toBeUndefined();
    expect(parseTimestamp(String(YEAR_9999_END + 1))).toBeUndefined();
    expect(parseTimestamp('5', { min: 10 })).toBeUndefined();
  });

  it('parses durations, compound ones and bare numbers in a given unit', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(parseDuration('5min')).toBe(300_000);
    expect(parseDuration('90', 's')).toBe(90_000);
    expect(parseDuration('90')).toBeUndefined();
    expect(parseDuration('-5s')).toBeUndefined();
    expect(parseDuration('5 parsecs')).toBeUndefined();
  });

  it('seeded random: the same seed, the same numbers', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
