import { describe, expect, it } from 'vitest';
import { compileJsonPath, valueAt } from '../src/sources/mapping/json-path.ts';
import { resolveSenml } from '../src/sources/mapping/senml.ts';
import {
  compileTopicPattern,
  matchTopic,
  type TopicPattern,
} from '../src/sources/mapping/topic-pattern.ts';
import { numberOf, timeOf } from '../src/sources/mapping/values.ts';

const pattern = (source: string) => compileTopicPattern(source) as TopicPattern;

describe('topic patterns', () => {
  it('captures {device} and {metric} from whole levels, + and # as MQTT filters do', () => {
    const p = pattern('{device}/sensor/{metric}/state');
    expect(p.filter).toBe('+/sensor/+/state');
    expect(matchTopic(p, 'porch/sensor/temperature/state')).toEqual({
      device: 'porch',
      metric: 'temperature',
    });
    expect(matchTopic(p, 'porch/sensor/temperature')).toBeUndefined();
    expect(matchTopic(p, 'porch/sensor/temperature/state/x')).toBeUndefined();
    expect(matchTopic(p, '/sensor/t/state')).toBeUndefined(); // an empty capture
    const rest = pattern('tele/{device}/#');
    expect(matchTopic(rest, 'tele/plug-1/STATE')).toEqual({ device: 'plug-1' });
    expect(matchTopic(rest, 'tele/plug-1')).toEqual({ device: 'plug-1' }); // [MQTT-4.7.1-2]
    expect(matchTopic(pattern('+/{device}'), 'a/b')).toEqual({ device: 'b' });
    expect(matchTopic(pattern('{device}/#'), '$SYS/broker')).toBeUndefined(); // [MQTT-4.7.2-1]
  });

  it('refuses what is not a pattern, saying why', () => {
    expect(compileTopicPattern('a/#/b')).toMatch(/last level/);
    expect(compileTopicPattern('a/dev{device}')).toMatch(/whole level/);
    expect(compileTopicPattern('{device}/{name}')).toMatch(/\{name\}: a capture is/);
    expect(compileTopicPattern('{device}/{device}')).toMatch(/twice/);
    expect(compileTopicPattern('')).toBe('empty');
  });
});

describe('JSON paths', () => {
  const doc = {
    ENERGY: { Power: 9 },
    'switch:0': { apower: 24.3 },
    sensors: [{ v: 1 }, { v: 2 }],
    'a.b': { c: 3 },
  };
  it('reads dotted keys, [n] items and ["quoted"] keys', () => {
    const at = (p: string) => valueAt(doc, compileJsonPath(p) as (string | number)[]);
    expect(at('ENERGY.Power')).toBe(9);
    expect(at('switch:0.apower')).toBe(24.3);
    expect(at('sensors[1].v')).toBe(2);
    expect(at('["a.b"].c')).toBe(3);
    expect(at('ENERGY.Voltage')).toBeUndefined();
    expect(at('sensors[5].v')).toBeUndefined();
    expect(at('ENERGY[0]')).toBeUndefined();
    expect(at('toString')).toBeUndefined(); // own keys only
  });

  it('refuses malformed paths', () => {
    for (const bad of ['', '.a', 'a.', 'a..b', 'a[x]', 'a["b]'])
      expect(typeof compileJsonPath(bad), bad).toBe('string');
  });
});

describe('values and times', () => {
  it('takes numbers, booleans, decimal text and ON/OFF; nothing else', () => {
    expect([21.5, true, false, ' 21.5 ', '-3e2', 'ON', 'off', 'true'].map(numberOf)).toEqual([
      21.5, 1, 0, 21.5, -300, 1, 0, 1,
    ]);
    for (const bad of [null, 'warm', '', '0x10', Number.NaN, {}, [1]])
      expect(numberOf(bad), String(bad)).toBeUndefined();
  });

  it('reads epoch seconds or ms as the rule says, ISO 8601 with contracts parser (UTC without offset)', () => {
    expect(timeOf(1_700_000_000.25, 's')).toBe(1_700_000_000_250);
    expect(timeOf('1700000000', 's')).toBe(1_700_000_000_000);
    expect(timeOf(1_700_000_000_000, 'ms')).toBe(1_700_000_000_000);
    expect(timeOf('2023-11-14T22:13:20Z', 's')).toBe(1_700_000_000_000);
    expect(timeOf('2023-11-14T23:13:20+01:00', 's')).toBe(1_700_000_000_000);
    expect(timeOf('2023-11-14T22:13:20', 's')).toBe(1_700_000_000_000);
    expect(timeOf('yesterday', 's')).toBeUndefined();
    expect(timeOf(true, 's')).toBeUndefined();
  });
});

describe('SenML (RFC 8428)', () => {
  const now = 1_700_000_100_000;
  it('resolves base name, time, unit, value and sum as section 4.6 does', () => {
    // RFC 8428, 5.1.2 (multiple data points), shortened.
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.320067464e9, bu: '%RH', v: 20 },
      { u: 'lon', v: 24.30621 },
      { n: 'temp', u: 'Cel', t: 2, v: 23.1 },
      { bv: 100, n: 'offset', v: 1.5 },
      { n: 'energy', bs: 10, s: 5, u: 'Wh' },
      { n: 'door', vb: true },
    ];
    const resolved = resolveSenml(pack, now);
    const t0 = 1_320_067_464_000;
    expect(resolved).toEqual({
      ok: true,
      records: [
        { name: 'urn:dev:ow:10e2073a01080063:', value: 20, unit: '%RH', time: t0 },
        { name: 'urn:dev:ow:10e2073a01080063:', value: 24.30621, unit: 'lon', time: t0 },
        { name: 'urn:dev:ow:10e2073a01080063:temp', value: 23.1, unit: 'Cel', time: t0 + 2000 },
        { name: 'urn:dev:ow:10e2073a01080063:offset', value: 101.5, unit: '%RH', time: t0 },
        { name: 'urn:dev:ow:10e2073a01080063:energy', value: 15, unit: 'Wh', time: t0 },
        { name: 'urn:dev:ow:10e2073a01080063:door', value: 1, unit: '%RH', time: t0 },
      ],
    });
  });

  it('reads a time below 2^28 as relative to the receive time [4.5.3]', () => {
    const resolved = resolveSenml(
      [
        { n: 't', v: 1 },
        { n: 'u', t: -60, v: 2 },
      ],
      now,
    );
    expect(resolved.ok && resolved.records.map((r) => r.time)).toEqual([now, now - 60_000]);
  });

  it('refuses what is not a valid pack, naming the record', () => {
    const refused = (pack: unknown) => {
      const r = resolveSenml(pack, now);
      return r.ok ? 'accepted' : `${r.code}: ${r.reason}`;
    };
    expect(refused({ n: 't', v: 1 })).toMatch(/^SENML_INVALID: a SenML pack is a non-empty/);
    expect(refused([])).toMatch(/^SENML_INVALID/);
    expect(refused([{ n: 't' }])).toMatch(/record 0 \(t\): no value/);
    expect(refused([{ n: 't', v: '1' }])).toMatch(/record 0\.v: expected a number/);
    expect(refused([{ n: 't', v: 1, bver: 11 }])).toMatch(/version 11/);
    expect(refused([{ n: 't', v: 1, foo_: 1 }])).toMatch(/must-understand field foo_/);
    expect(refused([{ n: ' t', v: 1 }])).toMatch(/not a SenML name/);
    expect(refused([{ n: 't', vs: 'warm' }])).toMatch(/^MAPPING_NOT_A_NUMBER: record 0 \(t\)/);
    expect(refused([{ n: 't', v: 1, other: 'ignored' }])).toBe('accepted');
  });
});
