import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { registerModbusMetrics } from './modbus-metrics.ts';
import type { GatewaySnapshot } from './snapshot.ts';

/**
 * Prometheus metrics, read from the gateway's state at scrape time (documented in README.md,
 * "Gateway metrics"). Totals are counters since start; process_* and nodejs_* are prom-client's
 * defaults (RSS, heap, event-loop lag).
 */
export function buildMetrics(snapshot: () => GatewaySnapshot): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const perSource = (
    name: string,
    help: string,
    pick: (c: GatewaySnapshot['sources'][string]) => number,
  ) =>
    new Counter({
      name,
      help,
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [source, c] of Object.entries(snapshot().sources)) this.inc({ source }, pick(c));
      },
    });
  perSource('iot_gateway_readings_received_total', 'Data publishes received', (c) => c.received);
  perSource(
    'iot_gateway_readings_acknowledged_total',
    'Readings committed and acknowledged (stored + duplicates)',
    (c) => c.stored + c.duplicates,
  );
  perSource(
    'iot_gateway_readings_stored_total',
    'Readings committed to the outbox',
    (c) => c.stored,
  );
  perSource(
    'iot_gateway_readings_duplicate_total',
    'Resends recognised as duplicates',
    (c) => c.duplicates,
  );
  perSource(
    'iot_gateway_commit_failures_total',
    'Publishes not acknowledged because the commit failed',
    (c) => c.failed,
  );
  const byReason = (
    name: string,
    help: string,
    pick: (s: GatewaySnapshot) => Record<string, number>,
  ) =>
    new Counter({
      name,
      help,
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(pick(snapshot()))) this.inc({ reason }, n);
      },
    });
  byReason('iot_gateway_quarantined_total', 'Input kept in quarantine, by reason code', (s) =>
    sum(Object.values(s.sources).map((c) => c.quarantinedByReason)),
  );
  byReason(
    'iot_gateway_restamped_total',
    "Readings stored at the gateway's receive time for a device clock fault, by reason code",
    (s) => sum(Object.values(s.sources).map((c) => c.restampedByReason)),
  );
  byReason('iot_gateway_rejected_total', 'MQTT connections and publishes refused, by reason', (s) =>
    sum(Object.values(s.sources).map((c) => c.rejected ?? {})),
  );
  byReason(
    'iot_gateway_quarantine_rate_limited_total',
    'Evidence from peers that never authenticated, counted but not stored (over the per-address rate), by code',
    (s) => sum(Object.values(s.sources).map((c) => c.rateLimited ?? {})),
  );
  byReason(
    'iot_gateway_dropped_total',
    'Readings dropped on purpose (cap policy, TTL), by reason',
    (s) => s.outbox.drops,
  );
  new Gauge({
    name: 'iot_gateway_quarantine_rows',
    help: 'Rows held in the quarantine table now, by reason code',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snapshot().outbox.quarantinedByCode))
        this.set({ reason }, n);
    },
  });
  const single = (
    name: string,
    help: string,
    pick: (s: GatewaySnapshot) => number,
    kind: 'counter' | 'gauge',
  ) => {
    const Metric = kind === 'counter' ? Counter : Gauge;
    new Metric({
      name,
      help,
      registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        this.inc(pick(snapshot()));
      },
    });
  };
  single(
    'iot_gateway_forwarded_total',
    'Readings the uplink acknowledged (Kafka, or the hub in single-box mode)',
    (s) => s.forwarder.forwarded,
    'counter',
  );
  single(
    'iot_gateway_forward_failures_total',
    'Failed uplink sends (resent)',
    (s) => s.forwarder.failures,
    'counter',
  );
  single(
    'iot_gateway_backlog_rows',
    'Readings waiting in the outbox',
    (s) => s.outbox.backlogRows,
    'gauge',
  );
  single(
    'iot_gateway_backlog_bytes',
    'Bytes the outbox file holds in use',
    (s) => s.outbox.backlogBytes,
    'gauge',
  );
  single(
    'iot_gateway_backlog_oldest_age_seconds',
    'Age of the oldest waiting reading',
    (s) => (s.outbox.oldestAgeMs ?? 0) / 1000,
    'gauge',
  );
  single(
    'iot_gateway_kafka_connected',
    '1 when the uplink is connected (the name predates the HTTP uplink: the hub in single-box mode)',
    (s) => (s.uplink.connected ? 1 : 0),
    'gauge',
  );
  new Gauge({
    name: 'iot_gateway_uplink_connected',
    help: '1 when the uplink is connected, labelled with which it is (kafka, hub)',
    labelNames: ['uplink'],
    registers: [registry],
    collect() {
      this.reset();
      const { uplink } = snapshot();
      this.set({ uplink: uplink.kind }, uplink.connected ? 1 : 0);
    },
  });
  single(
    'iot_gateway_outbox_writable',
    '1 when the last outbox commit succeeded',
    (s) => (s.outbox.lastWriteError === null ? 1 : 0),
    'gauge',
  );
  registerModbusMetrics(registry, snapshot);
  return registry;
}

function sum(maps: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}
