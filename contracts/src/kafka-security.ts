import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
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

/**
 * Which Kafka client library an app talks to Kafka with. kafkajs (2.2.4, unmaintained, see
 * README) is the default until @platformatic/kafka is shown at least as fast and as safe
 * behind the same ports (test/bench, test/fault).
 */
export const KafkaClientSchema = Type.Union(
  [Type.Literal('kafkajs'), Type.Literal('platformatic')],
  {
    default: 'kafkajs',
    description: 'Kafka client library: kafkajs (default) or platformatic (@platformatic/kafka)',
  },
);
export type KafkaClientName = Static<typeof KafkaClientSchema>;

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

const PLATFORMATIC_SASL = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const;

/**
 * @platformatic/kafka connection options (`tls`, `sasl`) from the same validated settings, so
 * both clients accept exactly one configuration (reads the PEM files).
 */
export function platformaticSecurityOptions(security: KafkaSecurity): {
  tls?: ConnectionOptions;
  sasl?: {
    mechanism: (typeof PLATFORMATIC_SASL)[keyof typeof PLATFORMATIC_SASL];
    username: string;
    password: string;
  };
} {
  const { ssl, sasl } = kafkaSecurityOptions(security);
  const out: ReturnType<typeof platformaticSecurityOptions> = {};
  if (ssl && typeof ssl === 'object') out.tls = ssl;
  if (sasl) {
    const { mechanism, username, password } = sasl as {
      mechanism: keyof typeof PLATFORMATIC_SASL;
      username: string;
      password: string;
    };
    out.sasl = { mechanism: PLATFORMATIC_SASL[mechanism], username, password };
  }
  return out;
}
