import { CONTROL_HEADER, decodeTick } from '@iot-stream/contracts';
import type { Message } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { IdleTicker } from '../src/kafka/idle-ticker.ts';

describe('IdleTicker', () => {
  it('appends one tick per quiet partition at the hub clock, and survives a failed send', async () => {
    const sent: Message[][] = [];
    let fail = false;
    let quiet = [1, 4];
    const ticker = new IdleTicker({
      topic: 'iot.readings',
      quietMs: 10_000,
      quiet: (_now, quietMs) => (quietMs === 10_000 ? quiet : []),
      send: async (topic, messages) => {
        expect(topic).toBe('iot.readings');
        if (fail) throw new Error('kafka down');
        sent.push(messages);
      },
      log: pino({ level: 'silent' }),
      now: () => 1_700_000_000_000,
    });
    await ticker.tick();
    expect(sent[0]?.map((m) => m.partition)).toEqual([1, 4]);
    expect(sent[0]?.map((m) => m.headers?.[CONTROL_HEADER])).toEqual(['tick', 'tick']);
    expect(decodeTick(sent[0]?.[0]?.value as string)).toBe(1_700_000_000_000);
    fail = true;
    await ticker.tick(); // logged, not thrown
    quiet = [];
    fail = false;
    await ticker.tick(); // nothing quiet: nothing sent
    expect(sent).toHaveLength(1);
    expect(ticker.counters.ticks).toBe(2);
    expect(decodeTick('{"kind":"tick","time":-1}')).toBeUndefined();
    expect(decodeTick('not json')).toBeUndefined();
  });
});
