import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { OutboxRow, Sink } from '../src/ports.ts';
import { Forwarder } from '../src/uplink/forwarder.ts';

/** A sink that fails the first `failures` sends, and records what it was given. */
class FlakySink implements Sink {
  sent: number[][] = [];
  acked: number[] = [];
  constructor(private failures: number) {}
  async connect() {}
  async disconnect() {}
  async sendStatus() {}
  async send(rows: readonly OutboxRow[]) {
    this.sent.push(rows.map((r) => r.id));
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('request timed out');
    }
    this.acked.push(...rows.map((r) => r.id));
  }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('Forwarder', () => {
  it('deletes rows only after the sink acknowledged them, and resends after a failure', async () => {
    const outbox = new SqliteOutbox({
      path: join(mkdtempSync(join(tmpdir(), 'fwd-')), 'o.sqlite'),
    });
    for (let i = 0; i < 10; i += 1) {
      await outbox.append({
        deviceId: 'd',
        seq: i,
        time: i,
        receivedAt: i,
        metrics: { x: { value: i } },
      });
    }
    const ids = outbox.peek(100).map((r) => r.id);
    const sink = new FlakySink(2);
    const forwarder = new Forwarder({
      outbox,
      sink,
      log: pino({ level: 'silent' }),
      batchSize: 4,
      idleMs: 5,
      backoff: { minMs: 1, maxMs: 2 },
    });
    forwarder.start();
    await until(() => outbox.stats().backlogRows === 0);
    await forwarder.stop();
    // The failed batch was resent whole (same ids), then the rest in order.
    expect(sink.sent[0]).toEqual(sink.sent[1]);
    expect(sink.sent[1]).toEqual(sink.sent[2]);
    expect(sink.acked).toEqual(ids);
    expect(ids).toHaveLength(10);
    expect(forwarder.counters).toMatchObject({ forwarded: 10, failures: 2 });
    outbox.close();
  });

  it('keeps rows in the outbox while the sink keeps failing', async () => {
    const outbox = new SqliteOutbox({
      path: join(mkdtempSync(join(tmpdir(), 'fwd-')), 'o.sqlite'),
    });
    await outbox.append({
      deviceId: 'd',
      seq: 1,
      time: 1,
      receivedAt: 1,
      metrics: { x: { value: 1 } },
    });
    const sink = new FlakySink(Number.POSITIVE_INFINITY);
    const forwarder = new Forwarder({
      outbox,
      sink,
      log: pino({ level: 'silent' }),
      batchSize: 10,
      backoff: { minMs: 1, maxMs: 2 },
    });
    forwarder.start();
    await until(() => sink.sent.length >= 3);
    await forwarder.stop();
    expect(outbox.stats().backlogRows).toBe(1);
    expect(forwarder.lastError).toBe('request timed out');
    outbox.close();
  });
});
