// MQTT mapping [FP-7]: topics, JSON data, binary data to JSON, commands.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.ts';
import { encodeFrame } from '../src/encoder.ts';
import type { SensorDescription } from '../src/messages.ts';
import {
  dataToJson,
  dataTopic,
  lastWill,
  parseJsonCommand,
  parseJsonData,
  parseTopic,
  scaleValue,
  topicFor,
} from '../src/mqtt.ts';
import { timeOffset, UptimeClock } from '../src/time-sync.ts';

describe('topics [FP-7.1]', () => {
  it('builds and parses every kind', () => {
    expect(dataTopic('esp-1')).toBe('iot/v1/esp-1/data');
    for (const kind of [
      'birth',
      'state',
      'data',
      'data/bin',
      'cmd',
      'cmd/result',
      'log',
    ] as const) {
      expect(parseTopic(topicFor('dev_1.a', kind))).toEqual({ deviceId: 'dev_1.a', kind });
    }
  });
  it('refuses other topics', () => {
    for (const t of [
      'iot/v1/esp-1',
      'iot/v2/esp-1/data',
      'iot/v1/es p/data',
      'iot/v1//data',
      'iot/v1/a/data/x',
      `iot/v1/${'a'.repeat(65)}/data`,
      'iot/v1/+/data',
    ]) {
      expect(parseTopic(t)).toBeUndefined();
    }
  });
  it('uses a retained offline state as the last will [FP-7.2]', () => {
    expect(lastWill('esp-1')).toEqual({
      topic: 'iot/v1/esp-1/state',
      payload: 'offline',
      qos: 1,
      retain: true,
    });
  });
});

describe('parseJsonData [FP-7.4]', () => {
  it('accepts the gateway example', () => {
    const payload =
      '{"session": 3735928559, "seq": 17, "time": 1763787600000, "metrics": {"temperature": {"value": 21.5, "unit": "Cel"}, "humidity": {"value": 40.2, "unit": "%RH"}}}';
    expect(parseJsonData(new TextEncoder().encode(payload))).toEqual({
      ok: true,
      reading: {
        session: 3735928559,
        seq: 17,
        time: 1763787600000,
        metrics: {
          temperature: { value: 21.5, unit: 'Cel' },
          humidity: { value: 40.2, unit: '%RH' },
        },
      },
    });
    expect(parseJsonData('{"seq":0,"metrics":{"t":{"value":-1}}}')).toMatchObject({ ok: true });
  });
  it.each([
    ['not UTF-8', Uint8Array.of(0xff), 'JSON_INVALID'],
    ['not JSON', '{', 'JSON_INVALID'],
    ['an array', '[]', 'PAYLOAD_INVALID'],
    ['seq missing', '{"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['seq 65536', '{"seq":65536,"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['seq fractional', '{"seq":1.5,"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['session negative', '{"seq":1,"session":-1,"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    [
      'time as text',
      '{"seq":1,"time":"2025-01-01","metrics":{"t":{"value":1}}}',
      'PAYLOAD_INVALID',
    ],
    ['no metrics', '{"seq":1,"metrics":{}}', 'PAYLOAD_INVALID'],
    ['bad metric name', '{"seq":1,"metrics":{"a b":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['value as text', '{"seq":1,"metrics":{"t":{"value":"1"}}}', 'PAYLOAD_INVALID'],
    ['unit not a string', '{"seq":1,"metrics":{"t":{"value":1,"unit":5}}}', 'PAYLOAD_INVALID'],
    [
      'unit too long',
      `{"seq":1,"metrics":{"t":{"value":1,"unit":"${'u'.repeat(33)}"}}}`,
      'PAYLOAD_INVALID',
    ],
    [
      '65 metrics',
      `{"seq":1,"metrics":{${Array.from({ length: 65 }, (_, i) => `"m${i}":{"value":1}`).join(',')}}}`,
      'PAYLOAD_INVALID',
    ],
  ])('rejects %s', (_name, payload, code) => {
    const r = parseJsonData(payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason.length).toBeGreaterThan(0);
    }
  });
  it('never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.uint8Array()), (p) => {
        parseJsonData(p);
        parseJsonCommand(p);
      }),
    );
  });
  it('keeps a metric named __proto__ as data', () => {
    const r = parseJsonData('{"seq":1,"metrics":{"__proto__":{"value":1}}}');
    expect(r.ok && Object.keys(r.reading.metrics)).toEqual(['__proto__']);
  });
});

describe('binary data to JSON [FP-7.5]', () => {
  it('scales values and maps aliases to names', () => {
    const sensors = new Map<number, SensorDescription>([
      [1, { alias: 1, name: 'temperature', unit: 'Cel', scale: -1 }],
      [2, { alias: 2, name: 'humidity', unit: '%RH', scale: -1 }],
    ]);
    const wire = encodeFrame({
      version: 1,
      flags: 0,
      type: 'data',
      seq: 17,
      session: 3735928559,
      body: {
        uptime: 1000,
        readings: [
          [1, 215],
          [2, 402],
          [9, 1],
        ],
      },
    });
    const [ev] = new FrameDecoder().push(wire);
    if (ev?.kind !== 'frame' || ev.frame.type !== 'data') throw new Error('not decoded');
    const clock = new UptimeClock();
    clock.observe(1000, 1763787601000);
    const r = dataToJson(ev.frame, sensors, (u) => clock.toEpoch(u));
    expect(r).toEqual({
      ok: true,
      reading: {
        session: 3735928559,
        seq: 17,
        time: 1763787601000,
        metrics: {
          temperature: { value: 21.5, unit: 'Cel' },
          humidity: { value: 40.2, unit: '%RH' },
        },
      },
      unknownAliases: [9],
    });
    expect(scaleValue(215, -1)).toBe(21.5);
    expect(scaleValue(3, 2)).toBe(300);
  });
  it('computes the time offset of an exchange [FP-6.5]', () => {
    // True offset 4_999_000, 10 ms each way: sent at uptime 1000, received at epoch 5_000_010,
    // answered at 5_000_012 (uptime 1012), back at uptime 1022.
    expect(timeOffset({ uptime: 1000, received: 5_000_010, sent: 5_000_012 }, 1022)).toBe(
      4_999_000,
    );
  });
});

describe('commands [FP-7.6]', () => {
  it('parses a command and rejects bad ones', () => {
    expect(parseJsonCommand('{"id":7,"name":"set-interval","args":{"ms":1000}}')).toEqual({
      ok: true,
      reading: { id: 7, name: 'set-interval', args: { ms: 1000 } },
    });
    expect(parseJsonCommand('{"id":-1,"name":"x"}').ok).toBe(false);
    expect(parseJsonCommand('{"id":1,"name":"a b"}').ok).toBe(false);
    expect(parseJsonCommand('{"id":1,"name":"x","args":[]}').ok).toBe(false);
  });
});
