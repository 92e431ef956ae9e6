import type { GatewayStatus, StoredAnomaly, StoredReading } from '../ports.ts';

/**
 * Row mapping shared by the InfluxDB and SQLite stores, so both answer the REST API with the
 * same shapes: `r` holds an anomaly's or gateway status's tags and fields by their InfluxDB
 * names (missing ones null or absent).
 */
export function anomalyOf(r: Record<string, unknown>, start: number): StoredAnomaly {
  const text = (k: string) => String(r[k] ?? null);
  return {
    id: text('id'),
    deviceId: text('device'),
    metric: text('metric'),
    rule: text('rule'),
    detector: text('detector'),
    severity: text('severity'),
    start,
    end: typeof r.end === 'number' ? r.end : null,
    state: text('state'),
    peakScore: Number(r.peak_score ?? null),
    peakTime: Number(r.peak_time ?? null),
    peakValue: typeof r.peak_value === 'number' ? r.peak_value : null,
    title: text('title'),
    text: text('text'),
  };
}

export function gatewayStatusOf(
  gatewayId: string,
  time: number,
  r: Record<string, unknown>,
): GatewayStatus {
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    gatewayId,
    time,
    version: typeof r.version === 'string' ? r.version : null,
    kafkaConnected: typeof r.kafka_connected === 'boolean' ? r.kafka_connected : null,
    backlogRows: num(r.backlog_rows),
    oldestReceivedAt: num(r.oldest_received_at),
    forwarded: num(r.forwarded),
  };
}

/** Folds one metric's point into the reading (all metrics of a gateway at one instant). */
export function addReadingPoint(
  byReading: Map<string, StoredReading>,
  p: {
    time: number;
    gateway: string;
    gatewaySeq: number | null;
    seq: number | null;
    metric: string;
    unit: string | null | undefined;
    value: number;
  },
): void {
  const id = `${p.time}/${p.gateway}`;
  let reading = byReading.get(id);
  if (!reading) {
    reading = {
      time: p.time,
      gatewayId: p.gateway,
      gatewaySeq: p.gatewaySeq,
      seq: p.seq,
      metrics: {},
    };
    byReading.set(id, reading);
  }
  reading.metrics[p.metric] = p.unit ? { value: p.value, unit: p.unit } : { value: p.value };
}
