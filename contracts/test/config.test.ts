import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.ts';

const Schema = Type.Object({
  name: Type.String({ default: 'gw' }),
  kafka: Type.Object(
    {
      brokers: Type.Array(Type.String(), { default: ['127.0.0.1:9092'], minItems: 1 }),
      batch: Type.Integer({ default: 100, minimum: 1 }),
    },
    { default: {} },
  ),
});

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('fills defaults', () => {
    expect(loadConfig(Schema)).toEqual({
      name: 'gw',
      kafka: { brokers: ['127.0.0.1:9092'], batch: 100 },
    });
  });

  it('layers file, environment and overrides, converting strings', () => {
    const file = yamlFile('name: from-file\nkafka:\n  batch: 5\n');
    const c = loadConfig(Schema, {
      file,
      env: { KAFKA_BROKERS: 'a:1,b:2', BATCH: '7' },
      envKeys: { KAFKA_BROKERS: 'kafka.brokers', BATCH: 'kafka.batch' },
      overrides: { name: 'from-flag' },
    });
    expect(c).toEqual({ name: 'from-flag', kafka: { brokers: ['a:1', 'b:2'], batch: 7 } });
    expect(Object.isFrozen(c.kafka)).toBe(true);
  });

  it('names the key, the value and the expectation', () => {
    const file = yamlFile('kafka:\n  batch: zero\n');
    expect(() => loadConfig(Schema, { file })).toThrow(ConfigError);
    expect(() => loadConfig(Schema, { file })).toThrow(/kafka\.batch: .*"zero"/);
  });

  it('reports a missing or malformed file clearly', () => {
    expect(() => loadConfig(Schema, { file: '/nonexistent/x.yaml' })).toThrow(/cannot read/);
    expect(() => loadConfig(Schema, { file: yamlFile('a: [') })).toThrow(/not valid YAML/);
    expect(() => loadConfig(Schema, { file: yamlFile('- 1\n') })).toThrow(/mapping/);
  });
});
