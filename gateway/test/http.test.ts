import { checkStatusRecord } from '@iot-stream/contracts';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildGatewayHttp } from '../src/ops/http.ts';
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

describe('gateway HTTP', () => {
  it('is live and ready when everything is fine', async () => {
    const a = app(snapshot());
    expect((await a.inject('/health/live')).statusCode).toBe(200);
    const ready = await a.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      ready: true,
      checks: { outboxWritable: true, kafkaReachable: true, backlogAgeOk: true },
    });
    expect((await a.inject('/health')).json()).toMatchObject({
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
    const res = await a.inject('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks[failing]).toBe(false);
    expect((await a.inject('/health/live')).statusCode).toBe(200);
  });

  it('serves Prometheus metrics with the documented names', async () => {
    const text = (await app(snapshot()).inject('/metrics')).body;
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
    const health = (await app(hub).inject('/health')).json();
    expect(health).toMatchObject({
      uplink: { kind: 'hub', connected: true, lastError: null },
      kafka: { connected: true, lastError: null },
    });
    const text = (await app(hub).inject('/metrics')).body;
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
});
