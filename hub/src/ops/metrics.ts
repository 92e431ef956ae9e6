import { Counter, Gauge, Registry } from 'prom-client';
import type { PipelineCounters } from '../pipeline/pipeline.ts';
import type { SourceCounters } from '../ports.ts';

/**
 * Prometheus metrics, read from the pipeline's counters at scrape time (no second set of
 * numbers to keep in step). Counter values only grow, so they are set with `inc(delta)`.
 */
export function hubMetrics(
  read: () => { source: SourceCounters; pipeline: PipelineCounters & { gatewayStatus: number } },
) {
  const registry = new Registry();
  const seen = new Map<string, number>();
  const counter = (name: string, help: string, value: (c: ReturnType<typeof read>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const v = value(read());
        this.inc(Math.max(0, v - (seen.get(name) ?? 0)));
        seen.set(name, v);
      },
    });
  counter(
    'iot_hub_records_total',
    'Kafka records consumed (redeliveries included)',
    (c) => c.source.records,
  );
  counter('iot_hub_readings_total', 'readings processed and written', (c) => c.pipeline.readings);
  counter(
    'iot_hub_invalid_total',
    'records that failed validation (dead-lettered)',
    (c) => c.pipeline.invalid,
  );
  counter('iot_hub_duplicates_total', 'duplicate readings ignored', (c) => c.pipeline.duplicates);
  counter(
    'iot_hub_too_late_total',
    'readings beyond the allowed lateness (stored raw, not aggregated)',
    (c) => c.pipeline.tooLate,
  );
  counter(
    'iot_hub_time_ahead_total',
    "readings stamped beyond stream.maxAheadMs ahead of their gateway's receive time (dead-lettered)",
    (c) => c.pipeline.rejected,
  );
  counter(
    'iot_hub_store_rejected_total',
    'readings the store refused for their content (isolated, dead-lettered)',
    (c) => c.pipeline.writeRejected,
  );
  counter(
    'iot_hub_punctuations_total',
    'quiet partitions whose time was moved on without records',
    (c) => c.pipeline.punctuations,
  );
  counter(
    'iot_hub_aggregates_total',
    'window aggregates written (corrections included)',
    (c) => c.pipeline.aggregates,
  );
  counter(
    'iot_hub_episode_events_total',
    'anomaly episode events published',
    (c) => c.pipeline.episodeEvents,
  );
  counter(
    'iot_hub_checkpoints_total',
    'stream-core checkpoints written',
    (c) => c.pipeline.checkpoints,
  );
  counter(
    'iot_hub_checkpoint_seconds_total',
    "time the hub's thread spent making checkpoints (its rate: the share stream.checkpointCostPercent bounds)",
    (c) => c.pipeline.checkpointMs / 1000,
  );
  counter(
    'iot_hub_write_failures_total',
    'batches whose writes failed and were retried',
    (c) => c.source.writeFailures,
  );
  counter(
    'iot_hub_gateway_status_total',
    'gateway status records written',
    (c) => c.pipeline.gatewayStatus,
  );
  counter(
    'iot_hub_notifications_total',
    'webhook notifications delivered',
    (c) => c.pipeline.notifications,
  );
  counter(
    'iot_hub_notification_failures_total',
    'webhook notifications given up after webhook.maxAttempts',
    (c) => c.pipeline.notificationFailures,
  );
  counter(
    'iot_hub_notifications_uncertain_total',
    'notifications a stopped hub had begun sending, not sent again (webhook.afterCrash: skip)',
    (c) => c.pipeline.notificationsUncertain,
  );
  counter(
    'iot_hub_influx_writes_total',
    'batch writes InfluxDB acknowledged',
    (c) => c.pipeline.writes,
  );
  counter(
    'iot_hub_influx_write_seconds_total',
    'time spent in acknowledged batch writes (divide by iot_hub_influx_writes_total for the mean)',
    (c) => c.pipeline.writeMs / 1000,
  );
  new Gauge({
    name: 'iot_hub_partitions',
    help: 'readings-topic partitions assigned to this hub',
    registers: [registry],
    collect() {
      this.set(read().pipeline.partitions);
    },
  });
  new Gauge({
    name: 'iot_hub_consumer_lag',
    help: 'records behind the high watermark after the last batch, per partition',
    labelNames: ['partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [p, lag] of Object.entries(read().pipeline.lag)) this.set({ partition: p }, lag);
    },
  });
  return { registry, text: () => registry.metrics() };
}
