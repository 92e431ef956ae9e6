import { describe, expect, it } from 'vitest';
import {
  type AdmissionTicket,
  ConnectionGate,
  normaliseAddress,
} from '../src/sources/mqtt/admission.ts';
import { LimitedQueue } from '../src/sources/mqtt/auth.ts';
import { TokenBuckets } from '../src/sources/mqtt/token-buckets.ts';

describe('ConnectionGate', () => {
  const limits = { maxClients: 2, maxPending: 5, maxPendingPerAddress: 2 };

  it('keeps connections waiting for CONNECT out of the client slots', () => {
    const gate = new ConnectionGate(limits);
    const idle = [gate.admit('10.0.0.1'), gate.admit('10.0.0.2'), gate.admit('10.0.0.3')];
    expect(idle.every((t) => typeof t === 'object')).toBe(true);
    const device = gate.admit('10.0.0.9') as AdmissionTicket;
    expect(device.promote()).toBeUndefined();
    expect(device.state).toBe('client');
    expect(gate.counts).toEqual({ pending: 3, clients: 1, addresses: 3 });
  });

  it('refuses beyond the per-address and total pending limits, and frees them on close', () => {
    const gate = new ConnectionGate(limits);
    const a = [gate.admit('10.0.0.1'), gate.admit('::ffff:10.0.0.1')] as AdmissionTicket[];
    expect(gate.admit('10.0.0.1')).toBe('max-pending-per-address');
    gate.admit('10.0.0.2');
    gate.admit('10.0.0.2');
    gate.admit('10.0.0.3');
    expect(gate.admit('10.0.0.4')).toBe('max-pending');
    a[0]?.close();
    a[0]?.close(); // idempotent
    expect(typeof gate.admit('10.0.0.1')).toBe('object');
    expect(gate.counts.pending).toBe(5);
  });

  it('refuses a CONNECT beyond maxClients, and counts a closed client out', () => {
    const gate = new ConnectionGate(limits);
    const tickets = ['a', 'b', 'c'].map((h) => gate.admit(h) as AdmissionTicket);
    expect(tickets.map((t) => t.promote())).toEqual([undefined, undefined, 'max-clients']);
    expect(gate.counts).toEqual({ pending: 0, clients: 2, addresses: 0 });
    tickets[0]?.close();
    const next = gate.admit('d') as AdmissionTicket;
    expect(next.promote()).toBeUndefined();
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 one', () => {
    expect(normaliseAddress('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(normaliseAddress(undefined)).toBe('?');
  });
});

describe('TokenBuckets', () => {
  it('allows a burst, then the rate, per key', () => {
    const buckets = new TokenBuckets({ perMinute: 6, burst: 3 });
    const takes = (key: string, now: number, n: number) =>
      Array.from({ length: n }, () => buckets.take(key, now)).filter(Boolean).length;
    expect(takes('a', 0, 10)).toBe(3);
    expect(takes('b', 0, 10)).toBe(3);
    expect(takes('a', 9_999, 5)).toBe(0);
    expect(takes('a', 10_000, 5)).toBe(1); // one token per 10 s
    expect(takes('a', 1_000_000, 10)).toBe(3); // never more than the burst
    expect(takes('a', 0, 1)).toBe(0); // a clock that went back adds nothing
  });

  it('forgets the least recently used key beyond maxKeys', () => {
    const buckets = new TokenBuckets({ perMinute: 0, burst: 1, maxKeys: 2 });
    expect(buckets.take('a', 0)).toBe(true);
    expect(buckets.take('b', 0)).toBe(true);
    expect(buckets.take('a', 0)).toBe(false);
    expect(buckets.take('c', 0)).toBe(true); // forgets b, not a (used last)
    expect(buckets.size).toBe(2);
    expect(buckets.take('a', 0)).toBe(false);
    expect(buckets.take('b', 0)).toBe(true);
  });
});

describe('LimitedQueue', () => {
  it('runs at most `concurrency` jobs at once, in order, and skips unwanted ones', async () => {
    const queue = new LimitedQueue(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const job = (i: number) => () =>
      new Promise<number>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(i);
        releases.push(() => {
          running -= 1;
          resolve(i);
        });
      });
    let wanted = true;
    const results = [
      queue.run(job(0)),
      queue.run(job(1)),
      queue.run(job(2), () => wanted),
      queue.run(job(3)),
    ];
    expect(queue.queued).toBe(2);
    wanted = false; // job 2's connection closed while it waited
    while (releases.length > 0 || order.length < 3) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    expect(await Promise.all(results)).toEqual([0, 1, undefined, 3]);
    expect(order).toEqual([0, 1, 3]);
    expect(peak).toBe(2);
  });
});
