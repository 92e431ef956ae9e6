import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@iot-stream/contracts';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.ts';
import type { MappingRule } from '../src/config-mappings.ts';
import { mapMessage } from '../src/sources/mapping/map-message.ts';
import { compileMappings, type Mappings } from '../src/sources/mapping/rules.ts';
import { DeviceAuthenticator } from '../src/sources/mqtt/auth.ts';

const MAPPINGS = join(import.meta.dirname, '..', 'mappings');
const now = 1_700_000_000_000;

/** Rules as the configuration gives them (schema defaults applied). */
function rules(...raw: Array<Record<string, unknown>>): MappingRule[] {
  return loadGatewayConfig({ overrides: { 'mqtt.mappings': raw } }).mqtt.mappings;
}

const map = (m: Mappings, topic: string, payload: string) => {
  const match = m.match(topic);
  if (!match) return 'no rule';
  return mapMessage(match, payload, now);
};

describe('mapping rules in the configuration', () => {
  it('refuses unknown keys and bad shapes, naming the key', () => {
    const load = (rule: Record<string, unknown>) => () =>
      loadGatewayConfig({ overrides: { 'mqtt.mappings': [rule] } });
    expect(
      load({ name: 'a', topic: 't/{device}', metrics: { x: { path: 'x', unti: 'W' } } }),
    ).toThrow(/mqtt\.mappings\.0\.metrics\.x\.unti/);
    expect(load({ name: 'a', topic: 't/{device}', formt: 'json' })).toThrow(
      /mqtt\.mappings\.0\.formt/,
    );
    expect(load({ name: 'a', topic: 't/{device}', format: 'xml' })).toThrow(
      /mqtt\.mappings\.0\.format/,
    );
  });

  it('refuses at start a rule that could never work, naming the key and the rule', () => {
    const compile = (rule: Record<string, unknown>) => () => compileMappings(rules(rule));
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { name: 'a', topic: 't/+', metrics: { x: { path: 'x' } } },
        /mqtt\.mappings\.0\.topic: must capture the device id/,
      ],
      [
        { name: 'a', topic: 't/#/{device}', metrics: { x: { path: 'x' } } },
        /0\.topic: .*# must be the last level/,
      ],
      [{ name: 'a', topic: 't/{device}', metrics: { x: { path: 'a..b' } } }, /0\.metrics\.x\.path/],
      [
        { name: 'a', topic: 't/{device}' },
        /0\.metrics: format json needs at least one metric \(rule a\)/,
      ],
      [{ name: 'a', topic: 't/{device}', format: 'value' }, /0\.metric: format value needs/],
      [
        { name: 'a', topic: 't/{device}', format: 'value', metric: '{metric}' },
        /no \{metric\} level/,
      ],
      [
        { name: 'a', topic: 't/{device}/{metric}', format: 'value', metric: 'x' },
        /0\.topic: \{metric\} is used only/,
      ],
      [
        { name: 'a', topic: 't/{device}', format: 'senml', seq: 'seq' },
        /0\.seq: only for format json, not senml/,
      ],
    ];
    for (const [rule, message] of cases) {
      expect(compile(rule), JSON.stringify(rule)).toThrow(ConfigError);
      expect(compile(rule), JSON.stringify(rule)).toThrow(message);
    }
  });

  it('ships examples that are valid configurations, each rule compiling', () => {
    const files = readdirSync(MAPPINGS).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual([
      'esphome.yaml',
      'senml.yaml',
      'shelly.yaml',
      'tasmota.yaml',
      'zigbee2mqtt.yaml',
    ]);
    for (const file of files) {
      const config = loadGatewayConfig({ file: join(MAPPINGS, file) });
      expect(compileMappings(config.mqtt.mappings).rules.length, file).toBeGreaterThan(0);
    }
  });
});

describe('mapping a message', () => {
  const m = compileMappings(
    rules(
      {
        name: 'tele',
        topic: 'tele/{device}/SENSOR',
        metrics: {
          temperature: { path: 'AM2301.Temperature', unit: 'Cel' },
          power: { path: 'ENERGY.Power', unit: 'W', optional: true },
        },
        time: { path: 'Time' },
        seq: 'n',
      },
      { name: 'tele-other', topic: 'tele/{device}/#', format: 'ignore' },
      {
        name: 'esp',
        topic: '{device}/sensor/{metric}/state',
        format: 'value',
        metric: '{metric}',
        units: { temperature: 'Cel' },
      },
      { name: 'senml', topic: 'senml/{device}', format: 'senml' },
    ),
  );

  it('takes metrics, time and seq at their paths; an optional metric may be absent', () => {
    const payload = JSON.stringify({
      Time: '2023-11-14T22:13:20Z',
      AM2301: { Temperature: 22.6 },
      n: 7,
    });
    expect(map(m, 'tele/th16/SENSOR', payload)).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'th16',
          seq: 7,
          time: now,
          metrics: { temperature: { value: 22.6, unit: 'Cel' } },
        },
      ],
    });
  });

  it('quarantines, with a stable code and a reason naming rule and path, what the rule does not find', () => {
    const failed = (topic: string, payload: string) => {
      const r = map(m, topic, payload);
      return typeof r === 'string' || r.ok ? r : `${r.code}: ${r.reason}`;
    };
    const base = { Time: '2023-11-14T22:13:20Z', n: 1 };
    expect(failed('tele/a/SENSOR', JSON.stringify({ ...base, ENERGY: { Power: 1 } }))).toBe(
      'MAPPING_PATH_MISSING: rule tele: metric temperature: nothing at AM2301.Temperature',
    );
    expect(
      failed('tele/a/SENSOR', JSON.stringify({ ...base, AM2301: { Temperature: 'warm' } })),
    ).toMatch(/^MAPPING_NOT_A_NUMBER: rule tele: metric temperature: "warm"/);
    expect(failed('tele/a/SENSOR', '{"AM2301":')).toMatch(
      /^MAPPING_JSON_INVALID: rule tele: payload is not JSON/,
    );
    expect(
      failed(
        'tele/a/SENSOR',
        JSON.stringify({ ...base, Time: 'noon', AM2301: { Temperature: 1 } }),
      ),
    ).toMatch(/^MAPPING_TIME_INVALID/);
    expect(
      failed('tele/a/SENSOR', JSON.stringify({ ...base, n: 70000, AM2301: { Temperature: 1 } })),
    ).toMatch(/^MAPPING_SEQ_INVALID/);
    expect(
      failed('tele/a b/SENSOR', JSON.stringify({ ...base, AM2301: { Temperature: 1 } })),
    ).toMatch(/^MAPPING_NAME_INVALID: rule tele: device id "a b"/);
    expect(failed('porch/sensor/t/state', 'unavailable')).toMatch(
      /^MAPPING_NOT_A_NUMBER: rule esp/,
    );
    expect(failed('senml/a', '{"n":"t"}')).toMatch(/^SENML_INVALID: rule senml/);
  });

  it('takes a plain value named by the topic, with its unit; ignores what an ignore rule matches', () => {
    expect(map(m, 'porch/sensor/temperature/state', '21.5')).toEqual({
      ok: true,
      readings: [
        { deviceId: 'porch', time: now, metrics: { temperature: { value: 21.5, unit: 'Cel' } } },
      ],
    });
    expect(map(m, 'porch/sensor/motion/state', 'ON')).toMatchObject({
      readings: [{ metrics: { motion: { value: 1 } } }],
    });
    expect(map(m, 'tele/th16/STATE', '{}')).toEqual({ ok: true, readings: [] });
    expect(map(m, 'elsewhere/x', '1')).toBe('no rule');
  });

  it('makes one reading per SenML time, names with : and / as dots', () => {
    const pack = [
      { bn: 'urn:dev:mac:0024befffe804ff1:', bt: 1_700_000_000, n: 'temp', u: 'Cel', v: 21.5 },
      { n: 'rh', u: '%RH', v: 40 },
      { n: 'temp', u: 'Cel', t: 60, v: 21.7 },
    ];
    expect(map(m, 'senml/kitchen', JSON.stringify(pack))).toEqual({
      ok: true,
      readings: [
        {
          deviceId: 'kitchen',
          time: now,
          metrics: {
            'urn.dev.mac.0024befffe804ff1.temp': { value: 21.5, unit: 'Cel' },
            'urn.dev.mac.0024befffe804ff1.rh': { value: 40, unit: '%RH' },
          },
        },
        {
          deviceId: 'kitchen',
          time: now + 60_000,
          metrics: { 'urn.dev.mac.0024befffe804ff1.temp': { value: 21.7, unit: 'Cel' } },
        },
      ],
    });
  });
});

describe('authorisation of mapped topics (embedded broker)', () => {
  const m = compileMappings(
    rules(
      { name: 'tele', topic: 'tele/{device}/SENSOR', metrics: { t: { path: 't' } } },
      { name: 'tele-other', topic: 'tele/{device}/#', format: 'ignore' },
      { name: 'any', topic: '{device}/#', format: 'ignore' },
    ),
  );
  const auth = new DeviceAuthenticator('password', {}, 1, (topic) => m.deviceOf(topic));
  it('lets a device publish to the topics a rule gives to it, and no others', () => {
    expect(auth.mayPublish('plug-1', 'tele/plug-1/SENSOR')).toBe(true);
    expect(auth.mayPublish('plug-1', 'tele/plug-1/LWT')).toBe(true);
    expect(auth.mayPublish('plug-1', 'tele/plug-2/SENSOR')).toBe(false);
    expect(auth.mayPublish('plug-1', 'cmnd/plug-1/POWER')).toBe(false);
    expect(auth.mayPublish(undefined, 'tele/plug-1/SENSOR')).toBe(false);
    expect(auth.mayPublish('plug-1', 'iot/v1/plug-1/data')).toBe(true);
  });

  it('never lets a rule give away the protocol topics of another device', () => {
    // `{device}/#` matches iot/v1/plug-2/data with device "iot".
    expect(auth.mayPublish('iot', 'iot/v1/plug-2/data')).toBe(false);
  });

  it('leaves unauthenticated mode as it was: anyone may publish anywhere', () => {
    const open = new DeviceAuthenticator('none', {}, 1, (topic) => m.deviceOf(topic));
    expect(open.mayPublish(undefined, 'tele/plug-2/SENSOR')).toBe(true);
  });
});
