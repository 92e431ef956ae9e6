/**
 * What the hub writes to InfluxDB (hub/src/influx-points.ts, hub/src/health-reporter.ts): the
 * retention policy, tags and fields of each measurement. The structural test checks every
 * dashboard query against it without a server; the pipeline test checks it against what the
 * running hub actually wrote, so it cannot drift unnoticed.
 */
export interface MeasurementSchema {
  rp: 'raw' | 'long';
  tags: readonly string[];
  fields: readonly string[];
}

export const HUB_SCHEMA: Record<string, MeasurementSchema> = {
  readings: {
    rp: 'raw',
    tags: ['device', 'gateway', 'metric', 'unit', 'site'],
    fields: ['value', 'seq', 'gateway_seq'],
  },
  aggregates: {
    rp: 'long',
    tags: ['device', 'metric', 'window', 'site'],
    fields: ['count', 'min', 'max', 'mean', 'stddev', 'last', 'revision'],
  },
  anomalies: {
    rp: 'long',
    tags: ['device', 'metric', 'rule', 'detector', 'severity', 'site'],
    fields: [
      'id',
      'title',
      'text',
      'tags',
      'state',
      'last_event',
      'event_time',
      'peak_score',
      'peak_time',
      'peak_value',
      'end',
    ],
  },
  gateway_status: {
    rp: 'raw',
    tags: ['gateway'],
    fields: [
      'version',
      'kafka_connected',
      'backlog_rows',
      'oldest_received_at',
      'oldest_age_ms',
      'quarantined',
      'forwarded',
      'forward_failures',
    ],
  },
  gateway_quarantine: { rp: 'raw', tags: ['gateway', 'reason'], fields: ['count'] },
  hub_health: {
    rp: 'raw',
    tags: ['hub'],
    fields: [
      'readings_per_s',
      'records_per_s',
      'lag',
      'partitions',
      'write_latency_ms',
      'write_latency_max_ms',
      'write_errors',
      'dead_letters',
      'duplicates',
      'too_late',
      'episode_events',
      'notifications',
      'notification_failures',
      'notifications_uncertain',
    ],
  },
};

/** Column names InfluxQL gives an unaliased function result, usable by an outer query. */
export const FUNCTION_COLUMNS = [
  'count',
  'distinct',
  'first',
  'last',
  'max',
  'mean',
  'median',
  'min',
  'sum',
  'top',
  'bottom',
];
