import { checkStatusRecord } from '@iot-stream/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildGatewayHttp, type GatewayHttp } from '../src/ops/http.ts';
import { buildMetrics } from '../src/ops/metrics.ts';
import type { GatewaySnapshot } from '../src/ops/snapshot.ts';
import { newIngestCounters } from '../src/sources/ingest.ts';
import { type GatewayStatusRecord, StatusReporter } from '../src/uplink/status-reporter.ts';

function snapshot(over: Partial<GatewaySnapshot> = {}): GatewaySnapshot {
  return {
    gatewayId: 'gw-1',
    time: 100_000,
    startedAt: 1,
    uplink: { kind: 'kafka', connected: true, lastError: null },
    outbox: {
      backlogRows: 3,
      backlogBytes: 4096,
      oldestReceivedAt: 99_000,
      oldestAgeMs: 1000,
      quarantined: 2,
      quarantinedByCode: { JSON_INVALID: 2 },
      drops: { ttl: 4 },
      lastWriteError: null,
      recoveredFrom: null,
    },
    sources: {
      mqtt: {
        ...newIngestCounters(),
        received: 10,
        stored: 7,
        duplicates: 1,
        quarantined: 2,
        quarantinedByReason: { JSON_INVALID: 2 },
        restampedByReason: { TIME_AHEAD: 3 },
        rejected: { 'auth-failed': 5 },
      },
    },
    forwarder: { forwarded: 6, batches: 2, failures: 1 },
    ...over,
  };
}

function app(s: GatewaySnapshot) {
  return buildGatewayHttp({
    snapshot: () => s,
    metrics: buildMetrics(() => s),
    maxBacklogAgeMs: 60_000,
    log: pino({ level: 'silent' }),
  });
}

async function inject(a: GatewayHttp, path: string, method = 'GET') {
  const { status, type, body } = await a.answer(method, path);
  return { statusCode: status, type, body, json: () => JSON.parse(body) };
}

describe('gateway HTTP', () => {
  it('is live and ready when everything is fine', async () => {
    const a = app(snapshot());
    expect((await inject(a, '/health/live')).statusCode).toBe(200);
    const ready = await inject(a, '/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      ready: true,
      checks: { outboxWritable: true, kafkaReachable: true, backlogAgeOk: true },
    });
    expect((await inject(a, '/health')).json()).toMatchObject({
      status: 'ok',
      gatewayId: 'gw-1',
      outbox: { backlogRows: 3 },
    });
  });

  it.each([
    [
      'Kafka is unreachable',
      { uplink: { kind: 'kafka', connected: false, lastError: null } },
      'kafkaReachable',
    ],
    [
      'the outbox cannot write',
      { outbox: { ...snapshot().outbox, lastWriteError: 'disk full' } },
      'outboxWritable',
    ],
    [
      'the backlog is too old',
      { outbox: { ...snapshot().outbox, oldestAgeMs: 120_000 } },
      'backlogAgeOk',
    ],
  ])('is not ready when %s, but still live', async (_name, over, failing) => {
    const a = app(snapshot(over as Partial<GatewaySnapshot>));
    const res = await inject(a, '/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks[failing]).toBe(false);
    expect((await inject(a, '/health/live')).statusCode).toBe(200);
  });

  it('serves Prometheus metrics with the documented names', async () => {
    const text = (await inject(app(snapshot()), '/metrics')).body;
    for (const line of [
      'iot_gateway_readings_received_total{source="mqtt"} 10',
      'iot_gateway_readings_acknowledged_total{source="mqtt"} 8',
      'iot_gateway_quarantined_total{reason="JSON_INVALID"} 2',
      'iot_gateway_restamped_total{reason="TIME_AHEAD"} 3',
      'iot_gateway_rejected_total{reason="auth-failed"} 5',
      'iot_gateway_dropped_total{reason="ttl"} 4',
      'iot_gateway_forwarded_total 6',
      'iot_gateway_backlog_rows 3',
      'iot_gateway_backlog_bytes 4096',
      'iot_gateway_backlog_oldest_age_seconds 1',
      'iot_gateway_kafka_connected 1',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('names the uplink neutrally, and keeps `kafka` for what reads it, also for the hub uplink', async () => {
    const now = Date.UTC(2026, 0, 1);
    const hub = snapshot({
      time: now,
      uplink: { kind: 'hub', connected: true, lastError: null },
      outbox: { ...snapshot().outbox, oldestReceivedAt: now - 1000 },
    });
    const health = (await inject(app(hub), '/health')).json();
    expect(health).toMatchObject({
      uplink: { kind: 'hub', connected: true, lastError: null },
      kafka: { connected: true, lastError: null },
    });
    const text = (await inject(app(hub), '/metrics')).body;
    expect(text).toContain('iot_gateway_uplink_connected{uplink="hub"} 1');
    expect(text).toContain('iot_gateway_kafka_connected 1');

    const sent: GatewayStatusRecord[] = [];
    const reporter = new StatusReporter({
      intervalMs: 60_000,
      snapshot: () => hub,
      send: async (record) => void sent.push(record),
      log: pino({ level: 'silent' }),
    });
    await reporter.report();
    // The hub stores `kafka.connected` as kafka_connected: still sent, and still valid.
    expect(sent[0]).toMatchObject({ kind: 'gateway-status', kafka: { connected: true } });
    expect(checkStatusRecord(JSON.parse(JSON.stringify(sent[0]))).ok).toBe(true);
  });

  it('answers over a real socket: GET and HEAD, 404 and 405 as JSON, and closes with a scraper connected', async () => {
    const a = app(snapshot());
    const base = await a.listen({ host: '127.0.0.1', port: 0 });
    try {
      const live = await fetch(`${base}/health/live`);
      expect([live.status, await live.json()]).toEqual([200, { live: true }]);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain('iot_gateway_forwarded_total 6');
      const head = await fetch(`${base}/health?verbose=1`, { method: 'HEAD' });
      expect([head.status, await head.text()]).toEqual([200, '']);
      const missing = await fetch(`${base}/nope`);
      expect([missing.status, ((await missing.json()) as { error: string }).error]).toEqual([
        404,
        'NOT_FOUND',
      ]);
      const post = await fetch(`${base}/health`, { method: 'POST', body: '{}' });
      expect([
        post.status,
        post.headers.get('allow'),
        ((await post.json()) as { error: string }).error,
      ]).toEqual([405, 'GET, HEAD', 'METHOD_NOT_ALLOWED']);
    } finally {
      await a.close(); // fetch keeps its connections alive: close must not wait for them
    }
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });

  it('refuses a port that is taken, with the address in the error', async () => {
    const first = app(snapshot());
    const base = await first.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(base).port);
    await expect(app(snapshot()).listen({ host: '127.0.0.1', port })).rejects.toThrow(
      /EADDRINUSE.*127\.0\.0\.1/,
    );
    await first.close();
  });
});
