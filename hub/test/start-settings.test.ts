import { describe, expect, it } from 'vitest';
import {
  cgroupLimit,
  HEAP_SHARE_OF_LIMIT,
  heapLimitMb,
  MALLOC_ENV,
  SEMI_SPACE_MB,
  STARTED,
  startSettings,
} from '../bin/start-settings.js';

describe("the hub bin's start-up settings", () => {
  it('adds the semi-space flag and the allocator settings, and marks the replaced process', () => {
    const s = startSettings({ PATH: '/bin' }, []);
    expect(s?.flags).toEqual([`--max-semi-space-size=${SEMI_SPACE_MB}`]);
    expect(s?.env).toEqual({ PATH: '/bin', [STARTED]: '1', ...MALLOC_ENV });
  });

  it('keeps what is given: flags on the command line or in NODE_OPTIONS, allocator variables', () => {
    expect(startSettings({}, ['--max-semi-space-size=16'])?.flags).toEqual([]);
    expect(startSettings({ NODE_OPTIONS: '--max_semi_space_size=2' }, [])?.flags).toEqual([]);
    const env = startSettings({ MALLOC_ARENA_MAX: '8' }, [])?.env;
    expect(env?.MALLOC_ARENA_MAX).toBe('8');
    expect(env?.MALLOC_MMAP_THRESHOLD_).toBe(MALLOC_ENV.MALLOC_MMAP_THRESHOLD_);
  });

  it('does nothing in the replaced process, or when turned off', () => {
    expect(startSettings({ [STARTED]: '1' }, [])).toBeUndefined();
    expect(startSettings({ IOT_HUB_START_SETTINGS: '0' }, [])).toBeUndefined();
  });

  it('sizes the old generation to a memory limit, unless a heap limit is given', () => {
    const gib = 2 ** 30;
    expect(startSettings({}, [], gib)?.flags).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
      `--max-old-space-size=${Math.floor(1024 * HEAP_SHARE_OF_LIMIT)}`,
    ]);
    expect(heapLimitMb(gib)).toBe(576);
    expect(heapLimitMb(2 * gib)).toBe(1152);
    expect(heapLimitMb(32 * 2 ** 20)).toBe(64); // (a floor: V8 needs some)
    expect(startSettings({}, ['--max-old-space-size=900'], gib)?.flags).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ]);
    expect(startSettings({ NODE_OPTIONS: '--max_old_space_size=300' }, [], gib)?.flags).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ]);
    expect(startSettings({}, ['--max-heap-size=2048'], gib)?.flags).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ]);
    expect(startSettings({}, [], undefined)?.flags).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ]);
  });

  it('takes a cgroup limit only below the machine memory (Node reports none as 0 or 2^44)', () => {
    const total = 24 * 2 ** 30;
    expect(cgroupLimit(2 ** 30, total)).toBe(2 ** 30);
    expect(cgroupLimit(0, total)).toBeUndefined();
    expect(cgroupLimit(2 ** 44, total)).toBeUndefined();
    expect(cgroupLimit(total, total)).toBeUndefined();
  });
});
