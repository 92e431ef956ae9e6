import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { HubConfigSchema, loadHubConfig } from '../src/config.ts';

describe('hub configuration', () => {
  it('config.example.yaml is valid and equals the defaults', () => {
    const fromFile = loadHubConfig({
      file: join(import.meta.dirname, '..', 'config.example.yaml'),
    });
    expect(fromFile).toEqual(Value.Default(HubConfigSchema, {}));
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
