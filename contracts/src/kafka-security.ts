import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { SECRET } from './config-redact.ts';
import { ConfigError } from './errors.ts';

/** Kafka TLS and SASL settings, shared by every app's config schema. */
export const KafkaSecuritySchema = Type.Object(
  {
    tls: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        /** CA bundle for a broker certificate not signed by a public CA. */
        caFile: Type.String({ default: '' }),
        /** Client certificate and key, for brokers that authenticate clients by certificate. */
        certFile: Type.String({ default: '' }),
        keyFile: Type.String({ default: '' }),
        /** Turning this off accepts any certificate: only for a lab, never the default. */
        rejectUnauthorized: Type.Boolean({ default: true }),
      },
      { default: {} },
    ),
    sasl: Type.Object(
      {
        mechanism: Type.Union(
          [
            Type.Literal('none'),
            Type.Literal('plain'),
            Type.Literal('scram-sha-256'),
            Type.Literal('scram-sha-512'),
          ],
          { default: 'none' },
        ),
        username: Type.String({ default: '' }),
        password: Type.String({ default: '', ...SECRET }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type KafkaSecurity = Static<typeof KafkaSecuritySchema>;

/** kafkajs `ssl` and `sasl` options from the validated settings (reads the PEM files). */
export function kafkaSecurityOptions(security: KafkaSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const { tls, sasl } = security;
  if (tls.enabled) {
    const read = (key: string, file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (cause) {
        throw new ConfigError(
          `kafka.security.tls.${key}: cannot read ${file}: ${(cause as Error).message}`,
          { cause },
        );
      }
    };
    out.ssl = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.caFile ? { ca: [read('caFile', tls.caFile)] } : {}),
      ...(tls.certFile ? { cert: read('certFile', tls.certFile) } : {}),
      ...(tls.keyFile ? { key: read('keyFile', tls.keyFile) } : {}),
    };
  }
  if (sasl.mechanism !== 'none') {
    if (!sasl.username || !sasl.password) {
      throw new ConfigError(
        `kafka.security.sasl: mechanism ${sasl.mechanism} needs username and password`,
      );
    }
    out.sasl = {
      mechanism: sasl.mechanism,
      username: sasl.username,
      password: sasl.password,
    } as SASLOptions;
  }
  return out;
}
