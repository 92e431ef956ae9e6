import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PlatformaticReadingSource } from '../src/kafka-platformatic/reading-source.ts';
import { PlatformaticStatusSource } from '../src/kafka-platformatic/status-source.ts';

// kafka.sessionTimeoutMs allows up to 300 s; @platformatic/kafka refuses (at construction) a
// rebalance timeout below the session timeout, and its default rebalance timeout is 102 s.

const connection = { clientId: 'test', bootstrapBrokers: ['127.0.0.1:9'], retries: 0 };
const log = pino({ level: 'silent' });

describe('the @platformatic/kafka consumers with the longest session timeout allowed', () => {
  for (const sessionTimeoutMs of [6_000, 30_000, 300_000])
    it(`build with sessionTimeoutMs ${sessionTimeoutMs}`, async () => {
      const status = new PlatformaticStatusSource({
        connection,
        groupId: 'g.gateway-status',
        topic: 'status',
        sessionTimeoutMs,
        log,
        write: async () => undefined,
      });
      const readings = new PlatformaticReadingSource({
        connection,
        groupId: 'g',
        topic: 'readings',
        sessionTimeoutMs,
        log,
      });
      expect(status).toBeDefined();
      expect(readings).toBeDefined();
      await status.stop();
      await readings.stop();
    });
});
