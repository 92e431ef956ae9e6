import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, printableConfig, REDACTED, SECRET } from '../src/index.ts';

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

const Strict = Type.Object({
  http: Type.Object(
    {
      token: Type.Optional(Type.String({ minLength: 4, ...SECRET })),
      port: Type.Integer({ default: 8080 }),
    },
    { default: {} },
  ),
  ports: Type.Array(
    Type.Object({ path: Type.String(), baudRate: Type.Integer({ default: 9600 }) }),
    {
      default: [],
    },
  ),
  devices: Type.Record(Type.String(), Type.Object({ passwordHash: Type.Optional(Type.String()) }), {
    default: {},
  }),
  sasl: Type.Object({ password: Type.String({ default: '', ...SECRET }) }, { default: {} }),
  hook: Type.Optional(Type.String({ ...SECRET })),
  influx: Type.Optional(Type.String()),
});

describe('loadConfig: unknown keys are refused', () => {
  const refused = (text: string) => {
    try {
      loadConfig(Strict, { file: yamlFile(text) });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error(`accepted: ${text}`);
  };

  it('names a misspelt key, the file and the nearest known key, at any depth', () => {
    expect(refused('http:\n  tokn: abcdefgh\n')).toMatch(
      /`http\.tokn`: did you mean `http\.token`\?/,
    );
    expect(refused('htp:\n  port: 1\n')).toMatch(/`htp`: did you mean `http`\?/);
    expect(refused('ports:\n  - path: /dev/x\n    baud: 1\n')).toMatch(
      /`ports\.0\.baud`: did you mean `ports\.0\.baudRate`\?/,
    );
    expect(refused('devices:\n  d1:\n    password: x\n')).toMatch(
      /`devices\.d1\.password`: did you mean `devices\.d1\.passwordHash`\?/,
    );
    expect(refused('token: abcdefgh\n')).toMatch(/`token`: did you mean `http\.token`\?/);
    expect(refused('zzz: 1\n')).toMatch(/unknown configuration key in .*c\.yaml[\s\S]*`zzz`$/);
  });

  it('accepts every known key', () => {
    const c = loadConfig(Strict, {
      file: yamlFile('http:\n  token: abcd\nports:\n  - path: /dev/x\ndevices:\n  d1: {}\n'),
    });
    expect(c.ports).toEqual([{ path: '/dev/x', baudRate: 9600 }]);
  });
});

describe('loadConfig: environment', () => {
  const envKeys = { HTTP_TOKEN: 'http.token', SASL_PASSWORD: 'sasl.password', PORT: 'http.port' };

  it('splits commas only for list keys', () => {
    const c = loadConfig(Strict, { env: { SASL_PASSWORD: 'p,w' }, envKeys });
    expect(c.sasl.password).toBe('p,w');
  });

  it('reads NAME_FILE (one trailing newline dropped) and refuses both at once', () => {
    const file = yamlFile('s3cret,with,commas\n');
    expect(loadConfig(Strict, { env: { SASL_PASSWORD_FILE: file }, envKeys }).sasl.password).toBe(
      's3cret,with,commas',
    );
    expect(() =>
      loadConfig(Strict, { env: { SASL_PASSWORD_FILE: file, SASL_PASSWORD: 'x' }, envKeys }),
    ).toThrow(/SASL_PASSWORD and SASL_PASSWORD_FILE are both set/);
    expect(() =>
      loadConfig(Strict, { env: { SASL_PASSWORD_FILE: '/nonexistent/pw' }, envKeys }),
    ).toThrow(/SASL_PASSWORD_FILE: cannot read \/nonexistent\/pw/);
  });

  it('says where a bad value came from, and never shows a secret', () => {
    expect(() => loadConfig(Strict, { env: { PORT: 'eighty' }, envKeys })).toThrow(
      /http\.port: .*"eighty".*environment variable PORT/,
    );
    const err = (() => {
      try {
        loadConfig(Strict, { env: { HTTP_TOKEN: 'ab' }, envKeys });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(err).toMatch(/http\.token: .*a secret, not shown.*environment variable HTTP_TOKEN/);
    expect(err).not.toContain('"ab"');
    expect(() => loadConfig(Strict, { file: yamlFile('http:\n  port: x\n') })).toThrow(
      /http\.port: .*config file .*c\.yaml/,
    );
  });
});

describe('printableConfig', () => {
  it('redacts secrets and URL passwords, keeps everything else', () => {
    const c = loadConfig(Strict, {
      file: yamlFile(
        'http:\n  token: tok-123456\nsasl:\n  password: pw\nhook: https://hooks.example.com/T0/B0/XYZ\ninflux: http://admin:hunter2@db:8086\n',
      ),
    });
    const text = printableConfig(Strict, c);
    for (const secret of ['tok-123456', '"pw"', 'T0/B0/XYZ', 'hunter2'])
      expect(text).not.toContain(secret);
    const shown = JSON.parse(text);
    expect(shown.http).toEqual({ token: REDACTED, port: 8080 });
    expect(shown.hook).toBe(`https://hooks.example.com/${REDACTED}`);
    expect(shown.influx).toBe(`http://admin:${REDACTED}@db:8086`);
    expect(shown.sasl.password).toBe(REDACTED);
    expect(printableConfig(Strict, loadConfig(Strict)).includes(REDACTED)).toBe(false);
  });
});
