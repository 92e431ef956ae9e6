import type { BenchContext } from '../lib/args.ts';
import { startLatencyConsumer } from '../lib/latency-consumer.ts';
import { runLoad } from '../lib/load.ts';
import { startDurable, startNaive } from '../lib/pipelines.ts';
import { round, sleep } from '../lib/proc.ts';
import { summarize } from '../lib/stats.ts';

export interface LatencyResult {
  pipeline: 'durable' | 'naive';
  /** Readings/s asked for and achieved by the devices. */
  rate: number;
  achievedRate: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Gateway receive (`receivedAt`) -> consumer: outbox commit + forwarding + Kafka. */
  fromGatewayP50Ms: number;
  fromGatewayP99Ms: number;
  /** Publish -> PUBACK as the devices saw it. */
  ackP50Ms: number | undefined;
  ackP99Ms: number | undefined;
}

/**
 * End-to-end latency at a fixed rate: device publish (payload `time`) -> record read by a
 * Kafka consumer, for the gateway and for the naive baseline.
 */
export async function latencyScenarios(ctx: BenchContext): Promise<LatencyResult[]> {
  const results: LatencyResult[] = [];
  const { rate, latencyMs } = ctx.options;
  const warmupMs = Math.min(2_000, latencyMs / 5);
  for (const [name, start] of [
    ['durable', startDurable],
    ['naive', startNaive],
  ] as const) {
    ctx.log(
      `latency (${name}): ${rate} readings/s for ${latencyMs / 1000} s ` +
        `(the first ${warmupMs / 1000} s not counted)`,
    );
    const pipeline = await start(ctx, `latency-${name}`);
    const consumer = await startLatencyConsumer(ctx.kafka.kafka, pipeline.topic);
    try {
      const { done } = await runLoad(
        {
          url: pipeline.mqttUrl,
          devices: ctx.options.devices,
          window: ctx.options.window,
          client: ctx.options.client,
          prefix: `${ctx.runId}-lat-${name}`,
          mode: { kind: 'rate', rate, durationMs: latencyMs, warmupMs },
        },
        async () => undefined,
      );
      const deadline = Date.now() + 30_000;
      while (consumer.latencies.length < done.acked && Date.now() < deadline) await sleep(50);
      // Readings published during the warm-up (JIT, first metadata fetches) are not counted.
      const from = done.firstPublishAt + warmupMs;
      const measured = consumer.times.flatMap((t, i) => (t >= from ? [i] : []));
      const s = summarize(measured.map((i) => consumer.latencies[i] as number));
      const g = summarize(measured.map((i) => consumer.fromGateway[i] as number));
      const result: LatencyResult = {
        pipeline: name,
        rate,
        achievedRate: Math.round(done.sent / ((done.lastPublishAt - done.firstPublishAt) / 1000)),
        received: s.n,
        p50Ms: s.p50,
        p99Ms: s.p99,
        maxMs: s.max,
        fromGatewayP50Ms: g.p50,
        fromGatewayP99Ms: g.p99,
        ackP50Ms: done.ackLatencyMs && round(done.ackLatencyMs.p50, 1),
        ackP99Ms: done.ackLatencyMs && round(done.ackLatencyMs.p99, 1),
      };
      if (consumer.latencies.length < done.acked)
        ctx.log(`  warning: consumed ${consumer.latencies.length} of ${done.acked} acknowledged`);
      ctx.log(
        `  p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms over ${s.n} readings; ` +
          `PUBACK p50 ${result.ackP50Ms} ms, p99 ${result.ackP99Ms} ms; ` +
          `gateway receive -> consumer p50 ${g.p50} ms, p99 ${g.p99} ms`,
      );
      results.push(result);
    } finally {
      await consumer.stop();
      await pipeline.stop();
    }
  }
  return results;
}
