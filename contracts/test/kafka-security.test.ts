import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  KafkaSecuritySchema,
  kafkaSecurityOptions,
  platformaticSecurityOptions,
} from '../src/index.ts';

const defaults = () =>
  Value.Default(KafkaSecuritySchema, {}) as ReturnType<typeof Value.Default> &
    Parameters<typeof kafkaSecurityOptions>[0];

describe('Kafka security settings', () => {
  it('default to plain connections with certificate checks on when TLS is enabled', () => {
    const d = defaults();
    expect(kafkaSecurityOptions(d)).toEqual({});
    expect(d.tls.rejectUnauthorized).toBe(true);
    expect(kafkaSecurityOptions({ ...d, tls: { ...d.tls, enabled: true } })).toEqual({
      ssl: { rejectUnauthorized: true },
    });
  });

  it('read the CA, certificate and key files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ksec-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem'])
      writeFileSync(join(dir, f), `-----${f}-----`);
    const d = defaults();
    const tls = {
      ...d.tls,
      enabled: true,
      caFile: join(dir, 'ca.pem'),
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
    };
    expect(kafkaSecurityOptions({ ...d, tls })).toEqual({
      ssl: {
        rejectUnauthorized: true,
        ca: ['-----ca.pem-----'],
        cert: '-----cert.pem-----',
        key: '-----key.pem-----',
      },
    });
    expect(() =>
      kafkaSecurityOptions({ ...d, tls: { ...tls, caFile: join(dir, 'missing.pem') } }),
    ).toThrow(/kafka\.security\.tls\.caFile/);
  });

  it('map SASL/SCRAM and refuse it without credentials', () => {
    const d = defaults();
    const sasl = { mechanism: 'scram-sha-512' as const, username: 'gw', password: 'pw' };
    expect(kafkaSecurityOptions({ ...d, sasl })).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'gw', password: 'pw' },
    });
    expect(() => kafkaSecurityOptions({ ...d, sasl: { ...sasl, password: '' } })).toThrow(
      ConfigError,
    );
  });

  it('give @platformatic/kafka the same TLS and SASL, in its spelling', () => {
    const d = defaults();
    expect(platformaticSecurityOptions(d)).toEqual({});
    const tls = { ...d.tls, enabled: true, rejectUnauthorized: false };
    const sasl = { mechanism: 'scram-sha-256' as const, username: 'gw', password: 'pw' };
    expect(platformaticSecurityOptions({ ...d, tls, sasl })).toEqual({
      tls: { rejectUnauthorized: false },
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'gw', password: 'pw' },
    });
    expect(() => platformaticSecurityOptions({ ...d, sasl: { ...sasl, username: '' } })).toThrow(
      ConfigError,
    );
  });
});
