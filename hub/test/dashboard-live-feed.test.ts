import type { ReadingRecord } from '@iot-stream/contracts';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EpisodeEvent } from '../src/detect/engine-types.ts';
import { HealthTicker, liveHealth } from '../src/http/dashboard/health-ticker.ts';
import { type FeedClient, LiveFeed, sseFrame } from '../src/http/dashboard/live-feed.ts';
import { PipelineFeed } from '../src/http/dashboard/pipeline-feed.ts';

/** A client whose socket takes `room` frames before it reports full. */
class FakeClient implements FeedClient {
  frames: string[] = [];
  closed = false;
  private drain: (() => void) | undefined;
  constructor(public room = Number.POSITIVE_INFINITY) {}
  write(frame: string) {
    this.frames.push(frame);
    return this.frames.length < this.room;
  }
  onDrain(listener: () => void) {
    this.drain = listener;
  }
  close() {
    this.closed = true;
  }
  /** The socket sent everything: room for `more` frames. */
  drained(more: number) {
    this.room = this.frames.length + more;
    const d = this.drain;
    this.drain = undefined;
    d?.();
  }
  events() {
    return this.frames
      .filter((f) => f.startsWith('event:'))
      .map((f) => {
        const [, event = '', data = ''] = /^event: (.*)\ndata: (.*)\n\n$/.exec(f) ?? [];
        return { event, data: JSON.parse(data) as unknown };
      });
  }
}

afterEach(() => {
  vi.useRealTimers();
});

const record = (deviceId: string, time: number, value: number): ReadingRecord => ({
  v: 1,
  gatewayId: 'gw-1',
  gatewaySeq: time,
  deviceId,
  time,
  receivedAt: time + 5,
  metrics: { temperature: { value, unit: 'Cel' } },
});

describe('LiveFeed', () => {
  it('frames an event as one event line and one data line', () => {
    expect(sseFrame('seen', { a: 'x\ny' })).toBe('event: seen\ndata: {"a":"x\\ny"}\n\n');
  });

  it('sends untopical events to everyone and topical ones to their subscribers only', () => {
    const feed = new LiveFeed({ heartbeatMs: 0 });
    const all = new FakeClient();
    const one = new FakeClient();
    feed.subscribe(all);
    feed.subscribe(one, { topics: new Set(['dev-1']) });
    feed.publish('health', { n: 1 });
    feed.publish('readings', { deviceId: 'dev-1' }, { topic: 'dev-1' });
    feed.publish('readings', { deviceId: 'dev-2' }, { topic: 'dev-2' });
    expect(all.events().map((e) => e.event)).toEqual(['health']);
    expect(one.events()).toEqual([
      { event: 'health', data: { n: 1 } },
      { event: 'readings', data: { deviceId: 'dev-1' } },
    ]);
    expect(feed.counters).toEqual({ clients: 2, published: 3, dropped: 0 });
  });

  it('gives a new client the latest sticky event at once, until it is cleared', () => {
    const feed = new LiveFeed({ heartbeatMs: 0 });
    feed.publish('health', { n: 1 }, { sticky: true });
    feed.publish('health', { n: 2 }, { sticky: true });
    feed.publish('seen', { devices: [] });
    const c = new FakeClient();
    feed.subscribe(c);
    expect(c.events()).toEqual([{ event: 'health', data: { n: 2 } }]);
    feed.clearSticky('health');
    const d = new FakeClient();
    feed.subscribe(d);
    expect(d.frames).toEqual([]);
  });

  it('queues for a full socket, flushes in order on drain, drops a client that falls behind', () => {
    const feed = new LiveFeed({ heartbeatMs: 0, maxQueued: 3 });
    const slow = new FakeClient(1);
    const fast = new FakeClient();
    feed.subscribe(slow);
    feed.subscribe(fast);
    for (let i = 1; i <= 3; i += 1) feed.publish('n', i);
    // The first write filled the socket; 2 and 3 wait in the queue.
    expect(slow.events().map((e) => e.data)).toEqual([1]);
    slow.drained(1); // room for one: 2 goes out, 3 waits again
    expect(slow.events().map((e) => e.data)).toEqual([1, 2]);
    slow.drained(10);
    expect(slow.events().map((e) => e.data)).toEqual([1, 2, 3]);
    slow.room = slow.frames.length; // full again
    for (let i = 4; i <= 8; i += 1) feed.publish('n', i);
    // 4 went to the socket (which said full), 5, 6, 7 queued, 8 overflowed: dropped.
    expect(slow.closed).toBe(true);
    expect(feed.counters).toMatchObject({ clients: 1, dropped: 1 });
    slow.drained(10); // a drain after the drop sends nothing more
    expect(slow.events().map((e) => e.data)).toEqual([1, 2, 3, 4]);
    expect(fast.events().map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('drops a client whose socket throws, without troubling the publisher', () => {
    const feed = new LiveFeed({ heartbeatMs: 0 });
    const broken: FeedClient = {
      write: () => {
        throw new Error('socket gone');
      },
      onDrain: () => undefined,
      close: vi.fn(),
    };
    feed.subscribe(broken);
    expect(() => feed.publish('n', 1)).not.toThrow();
    expect(broken.close).toHaveBeenCalledOnce();
    expect(feed.counters).toMatchObject({ clients: 0, dropped: 1 });
  });

  it('sends heartbeat comments while anyone listens, and stops when nobody does', () => {
    vi.useFakeTimers();
    const feed = new LiveFeed({ heartbeatMs: 1000 });
    const c = new FakeClient();
    const unsubscribe = feed.subscribe(c);
    vi.advanceTimersByTime(3500);
    expect(c.frames).toEqual([': heartbeat\n\n', ': heartbeat\n\n', ': heartbeat\n\n']);
    unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnects everyone on shutdown', () => {
    const feed = new LiveFeed({ heartbeatMs: 0 });
    const a = new FakeClient();
    const b = new FakeClient();
    feed.subscribe(a);
    feed.subscribe(b);
    feed.disconnectAll();
    expect([a.closed, b.closed, feed.active]).toEqual([true, true, false]);
  });
});

describe('PipelineFeed', () => {
  const episode: EpisodeEvent = {
    type: 'opened',
    time: 5000,
    episode: {
      id: 'limits/dev-1/temperature/5000',
      ruleId: 'limits',
      deviceId: 'dev-1',
      metric: 'temperature',
      detector: 'range',
      severity: 'critical',
      start: 5000,
      end: null,
      peakScore: 0.9,
      peakTime: 5000,
      peakValue: 80,
    },
  };

  it('gathers readings per device and publishes them once per flush; anomalies at once', () => {
    vi.useFakeTimers();
    const feed = new LiveFeed({ heartbeatMs: 0 });
    const fleet = new FakeClient();
    const device = new FakeClient();
    feed.subscribe(fleet);
    feed.subscribe(device, { topics: new Set(['dev-1']) });
    const pf = new PipelineFeed(feed, { flushMs: 500, maxPerDevice: 2 });
    pf.onWritten({
      readings: [record('dev-1', 3000, 21), record('dev-2', 1000, 20), record('dev-1', 1000, 19)],
      events: [episode],
    });
    pf.onWritten({ readings: [record('dev-1', 4000, 22)], events: [] });
    expect(fleet.events()).toEqual([
      { event: 'anomaly', data: { type: 'opened', time: 5000, episode: episode.episode } },
    ]);
    vi.advanceTimersByTime(500);
    expect(fleet.events().slice(1)).toEqual([
      {
        event: 'seen',
        data: {
          devices: [
            { deviceId: 'dev-1', gateway: 'gw-1', lastSeen: 4000, readings: 3 },
            { deviceId: 'dev-2', gateway: 'gw-1', lastSeen: 1000, readings: 1 },
          ],
        },
      },
    ]);
    // dev-1's page: the newest two of its three readings (maxPerDevice), in time order.
    expect(device.events().at(-1)).toEqual({
      event: 'readings',
      data: {
        deviceId: 'dev-1',
        readings: [
          { time: 1000, metrics: { temperature: { value: 19, unit: 'Cel' } } },
          { time: 4000, metrics: { temperature: { value: 22, unit: 'Cel' } } },
        ],
      },
    });
  });

  it('does nothing while nobody listens', () => {
    vi.useFakeTimers();
    const feed = new LiveFeed({ heartbeatMs: 0 });
    const pf = new PipelineFeed(feed);
    pf.onWritten({ readings: [record('dev-1', 1000, 20)], events: [episode] });
    vi.advanceTimersByTime(1000);
    expect(feed.counters.published).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('health events', () => {
  const gateways = [
    {
      gatewayId: 'gw-1',
      time: 10_000,
      version: '0.1.0',
      kafkaConnected: true,
      backlogRows: 40,
      oldestReceivedAt: 7_000,
      forwarded: 100,
    },
  ];
  const raw = (readings: number) => ({
    status: 'ok',
    kafka: { connected: true },
    influx: { ok: true },
    pipeline: { readings, records: readings + 2, lag: { '0': 3, '1': 4 } },
  });

  it('tells single-box mode and its store apart from the Kafka path', () => {
    const stream = { clients: 1, dropped: 0 };
    const h = liveHealth(
      { status: 'ok', mode: 'single-box', kafka: null, store: { kind: 'sqlite', ok: true } },
      [],
      undefined,
      1,
      stream,
    );
    expect(h).toMatchObject({
      mode: 'single-box',
      store: { kind: 'sqlite', ok: true },
      kafkaConnected: null,
    });
  });

  it('derives throughput from two samples, sums lag and backlog', () => {
    const stream = { clients: 1, dropped: 0 };
    const first = liveHealth(raw(100), gateways, undefined, 20_000, stream);
    expect(first).toMatchObject({
      status: 'ok',
      kafkaConnected: true,
      influxOk: true,
      readingsPerSec: null,
      lagTotal: 7,
      backlogTotal: 40,
      gateways: [{ gatewayId: 'gw-1', backlogRows: 40, backlogAgeMs: 3000 }],
    });
    const second = liveHealth(
      raw(300),
      gateways,
      { time: 20_000, readings: 100, records: 102 },
      22_000,
      stream,
    );
    expect(second).toMatchObject({ readingsPerSec: 100, recordsPerSec: 100 });
  });

  it('ticks only while a client listens and forgets its sample when idle', async () => {
    const feed = new LiveFeed({ heartbeatMs: 0 });
    let now = 20_000;
    let readings = 100;
    const gatewaysQuery = vi.fn(async () => gateways);
    const ticker = new HealthTicker(feed, {
      health: async () => raw(readings),
      gateways: gatewaysQuery,
      log: pino({ level: 'silent' }),
      now: () => now,
    });
    await ticker.tick();
    expect(feed.counters.published).toBe(0);
    const c = new FakeClient();
    const unsubscribe = feed.subscribe(c);
    await ticker.tick();
    now += 2000;
    readings += 50;
    await ticker.tick();
    const rates = c.events().map((e) => (e.data as { readingsPerSec: number }).readingsPerSec);
    expect(rates).toEqual([null, 25]);
    expect(gatewaysQuery).toHaveBeenCalledOnce(); // cached for gatewaysEveryMs
    unsubscribe();
    await ticker.tick();
    const late = new FakeClient();
    feed.subscribe(late);
    expect(late.frames).toEqual([]); // no stale sticky health
    await ticker.tick();
    expect(late.events()[0]?.data).toMatchObject({ readingsPerSec: null });
  });
});
