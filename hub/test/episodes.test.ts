import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EpisodeConfig, EpisodeTracker, type Transition } from '../src/detect/episodes.ts';
import { mulberry32 } from './support/synthetic.ts';

const S = 1_000;
const CONFIG: EpisodeConfig = {
  openAt: 0.5,
  closeAt: 0.3,
  minDurationMs: 0,
  quietMs: 0,
  renotifyMs: 0,
};

function feed(config: Partial<EpisodeConfig>, scores: readonly number[], stepMs = S) {
  const t = new EpisodeTracker({ ...CONFIG, ...config });
  const out: Transition[] = [];
  scores.forEach((score, i) => {
    const e = t.observe(i * stepMs, score, i);
    if (e) out.push(e);
  });
  return { tracker: t, events: out, types: out.map((e) => e.type) };
}

describe('episodes', () => {
  it('do not flap on a noisy score hovering around the open threshold', () => {
    const rand = mulberry32(1);
    const scores = Array.from({ length: 2_000 }, () => 0.5 + (rand() - 0.5) * 0.3); // 0.35..0.65
    const { types } = feed({}, scores);
    expect(types.filter((t) => t !== 'updated')).toEqual(['opened']);
    expect(types.length).toBeLessThanOrEqual(1 + 5); // a peak can rise by 0.1 at most 5 times
    // Without hysteresis and quiet period the same signal flaps hundreds of times.
    const naive = feed({ closeAt: 0.5 }, scores).types.filter((t) => t === 'opened').length;
    expect(naive).toBeGreaterThan(300);
  });

  it('open once scores stayed at or above openAt for minDurationMs, starting at the first', () => {
    const { events } = feed({ minDurationMs: 3 * S }, [0, 0.6, 0.7, 0.6, 0.9, 0.9, 0]);
    expect(events[0]).toMatchObject({ type: 'opened', time: 4 * S, start: S });
    expect(events[0]).toMatchObject({ peakScore: 0.9, peakTime: 4 * S, peakValue: 4 });
  });

  it('ignore a blip shorter than minDurationMs (a dip below openAt restarts the count)', () => {
    expect(feed({ minDurationMs: 3 * S }, [0.9, 0.9, 0.4, 0.9, 0.9, 0.9, 0.1]).types).toEqual([]);
  });

  it('close after scores stayed below closeAt for quietMs; end is the first quiet reading', () => {
    const { events } = feed({ quietMs: 2 * S }, [0.9, 0.2, 0.2, 0.2, 0.2]);
    expect(events.map((e) => [e.type, e.time])).toEqual([
      ['opened', 0],
      ['closed', 3 * S],
    ]);
    expect(events[1]).toMatchObject({ start: 0, end: S, reason: 'recovered' });
  });

  it('stay the same episode when scores come back within the quiet period', () => {
    const { types } = feed({ quietMs: 3 * S }, [0.9, 0.1, 0.1, 0.4, 0.1, 0.1, 0.1, 0.1]);
    expect(types).toEqual(['opened', 'closed']);
  });

  it('re-notify a long episode every renotifyMs, and report a rising peak as updated', () => {
    const scores = [0.6, 0.6, 0.6, 0.65, 0.75, 0.6, 0.6, 0.6, 0.6, 0.6, 0.0];
    const { events } = feed({ renotifyMs: 3 * S }, scores);
    expect(events.map((e) => [e.type, e.time])).toEqual([
      ['opened', 0],
      ['renotify', 3 * S],
      ['updated', 4 * S],
      ['renotify', 6 * S],
      ['renotify', 9 * S],
      ['closed', 10 * S],
    ]);
  });

  it('close on a tick once the quiet period has passed without readings', () => {
    const t = new EpisodeTracker({ ...CONFIG, quietMs: 60 * S });
    t.observe(0, 0.9, 1);
    t.observe(S, 0.1, 1);
    expect(t.tick(30 * S)).toBeUndefined();
    expect(t.tick(61 * S)).toMatchObject({ type: 'closed', end: S });
    expect(t.isOpen).toBe(false);
  });

  it('are deterministic and survive snapshot -> JSON -> restore anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 * S }), fc.double({ min: 0, max: 1 })), {
          maxLength: 200,
        }),
        fc.nat(),
        (obs, at) => {
          const config = { ...CONFIG, minDurationMs: 2 * S, quietMs: 3 * S, renotifyMs: 7 * S };
          let time = 0;
          const timed = obs.map(([dt, score]) => {
            time += dt;
            return { time, score };
          });
          const run = (tr: EpisodeTracker, xs: typeof timed) =>
            xs.map((x, i) => (i % 5 === 4 ? tr.tick(x.time) : tr.observe(x.time, x.score, i)));
          const cut = at % (timed.length + 1);
          const straight = run(new EpisodeTracker(config), timed);
          const again = run(new EpisodeTracker(config), timed);
          const first = new EpisodeTracker(config);
          const head = run(first, timed.slice(0, cut));
          const second = new EpisodeTracker(config);
          second.restore(JSON.parse(JSON.stringify(first.snapshot())));
          const tail = timed.slice(cut).map((x, j) => {
            const i = cut + j;
            return i % 5 === 4 ? second.tick(x.time) : second.observe(x.time, x.score, i);
          });
          expect(again).toEqual(straight);
          expect([...head, ...tail]).toEqual(straight);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('force-close an open episode when its series is evicted', () => {
    const t = new EpisodeTracker(CONFIG);
    expect(t.forceClose(5)).toBeUndefined();
    t.observe(10, 0.9, 3);
    expect(t.forceClose(20)).toMatchObject({ type: 'closed', end: 20, reason: 'evicted' });
  });
});
