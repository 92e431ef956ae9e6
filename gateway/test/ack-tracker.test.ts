import { describe, expect, it } from 'vitest';
import { AckTracker } from '../src/sources/serial/ack-tracker.ts';

describe('AckTracker', () => {
  it('starts before seq 0 and advances only over handled frames', () => {
    const t = new AckTracker(7, 0xffff, () => 0);
    expect(t.body()).toEqual({ session: 7, cumulative: 0xffff });
    t.handled(0);
    t.handled(1);
    t.handled(3);
    expect(t.body()).toEqual({ session: 7, cumulative: 1, selective: 0b10 });
    t.handled(2);
    expect(t.body()).toEqual({ session: 7, cumulative: 3 });
  });

  it('resumes from a persisted baseline without claiming the frames after it', () => {
    // The previous run acknowledged up to 10; the device re-sends hello at 20 and still holds 11..19.
    const t = new AckTracker(7, 10, () => 0);
    t.handled(20);
    expect(t.body()).toEqual({ session: 7, cumulative: 10, selective: 1 << 9 });
    for (let s = 11; s < 20; s += 1) t.handled(s);
    expect(t.body()).toEqual({ session: 7, cumulative: 20 });
  });

  it('ignores frames at or before the cumulative point and wraps at 65536', () => {
    const t = new AckTracker(1, 0xfffe, () => 0);
    expect(t.handled(0xfffe)).toBe(false);
    t.handled(0xffff);
    t.handled(0);
    expect(t.body().cumulative).toBe(0);
  });

  it('gives up a gap on request, reporting how many frames were lost', () => {
    let now = 0;
    const t = new AckTracker(1, 4, () => now);
    t.handled(8);
    now = 1000;
    expect(t.gapAgeMs()).toBe(1000);
    expect(t.giveUpGap()).toBe(3);
    expect(t.body()).toEqual({ session: 1, cumulative: 8 });
    expect(t.gapAgeMs()).toBe(0);
  });
});
