import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { objectKeys, schemaKeys } from '@iot-stream/contracts';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dataDir, HubConfigSchema, loadHubConfig } from '../src/config.ts';

describe('hub configuration', () => {
  it('config.example.yaml is valid and equals the defaults', () => {
    const fromFile = loadHubConfig({
      file: join(import.meta.dirname, '..', 'config.example.yaml'),
    });
    expect(fromFile).toEqual(Value.Default(HubConfigSchema, {}));
  });

  it('config.example.yaml documents every key', () => {
    const text = readFileSync(join(import.meta.dirname, '..', 'config.example.yaml'), 'utf8');
    // Commented-out keys count as documented.
    const doc = parse(text.replace(/^(\s*)# (\w+:)/gm, '$1$2'));
    expect(objectKeys(doc).sort()).toEqual(schemaKeys(HubConfigSchema).sort());
  });

  it('takes connection settings from the environment', () => {
    const c = loadHubConfig({ env: { INFLUX_URL: 'http://influx:8086', KAFKA_GROUP_ID: 'hubs' } });
    expect(c.influx.url).toBe('http://influx:8086');
    expect(c.kafka.groupId).toBe('hubs');
  });

  it('names the key of a bad value', () => {
    expect(() => loadHubConfig({ env: { INFLUX_DATABASE: 'bad name' } })).toThrow(
      /influx\.database/,
    );
  });
});

describe('hub data folder', () => {
  it('takes an InfluxDB token (INFLUX_TOKEN) and refuses it beside a username', () => {
    const c = loadHubConfig({ env: { INFLUX_URL: 'http://influx:8086', INFLUX_TOKEN: 'abc' } });
    expect(c.influx).toMatchObject({ token: 'abc', manageSchema: true });
    expect(() => loadHubConfig({ env: { INFLUX_TOKEN: 'abc', INFLUX_USERNAME: 'u' } })).toThrow(
      /influx.token and influx.username are both set/,
    );
  });
  it('is data/hub by default, keeps an older hub-data/ until data/hub/ exists, and obeys storage.dir', () => {
    const storage = loadHubConfig({}).storage;
    expect(storage.dir).toBe('data/hub');
    const only =
      (...paths: string[]) =>
      (p: string) =>
        paths.includes(p);
    expect(dataDir(storage, only())).toEqual({ dir: 'data/hub', legacy: false });
    expect(dataDir(storage, only('hub-data'))).toEqual({ dir: 'hub-data', legacy: true });
    expect(dataDir(storage, only('hub-data', 'data/hub'))).toEqual({
      dir: 'data/hub',
      legacy: false,
    });
    const set = loadHubConfig({ overrides: { 'storage.dir': '/var/lib/hub' } }).storage;
    expect(dataDir(set, only('hub-data'))).toEqual({ dir: '/var/lib/hub', legacy: false });
  });
});
