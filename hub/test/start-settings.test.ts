import { describe, expect, it } from 'vitest';
import { MALLOC_ENV, SEMI_SPACE_MB, STARTED, startSettings } from '../bin/start-settings.js';

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
});
