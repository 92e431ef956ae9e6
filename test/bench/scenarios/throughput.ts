import type { BenchContext } from '../lib/args.ts';
import { waitForCount } from '../lib/kafka.ts';
import { runLoad } from '../lib/load.ts';
import { type Pipeline, startDurable, startNaive } from '../lib/pipelines.ts';
import { CpuMeter, RssSampler, round } from '../lib/proc.ts';

export interface ThroughputResult {
  pipeline: 'durable' | 'naive';
  readings: number;
  /** Readings/s: total / (first publish -> the topic's end offsets sum to the total). */
  readingsPerSec: number;
  /** PUBACKs/s seen by the devices (first publish -> last PUBACK). */
  acksPerSec: number;
  seconds: number;
  /** CPU seconds per process during the run. */
  cpu: Record<string, number>;
  forwarderMaxRssMb: number;
}

/** Durable gateway, then the naive baseline, the same devices and total for both. */
export async function throughputScenarios(ctx: BenchContext): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  for (const [name, start] of [
    ['durable', startDurable],
    ['naive', startNaive],
  ] as const) {
    ctx.log(
      `throughput (${name}): ${ctx.options.readings} readings, ${ctx.options.devices} devices`,
    );
    const pipeline = await start(ctx, `throughput-${name}`);
    try {
      const result = await measureBurst(ctx, pipeline);
      ctx.log(
        `  ${result.readingsPerSec} readings/s into Kafka, ${result.acksPerSec} acks/s, ` +
          `cpu ${JSON.stringify(result.cpu)}`,
      );
      results.push(result);
    } finally {
      await pipeline.stop();
    }
  }
  return results;
}

async function measureBurst(ctx: BenchContext, pipeline: Pipeline): Promise<ThroughputResult> {
  const total = ctx.options.readings;
  const rss = new RssSampler(pipeline.forwarderPid);
  const { done, during } = await runLoad(
    {
      url: pipeline.mqttUrl,
      devices: ctx.options.devices,
      window: ctx.options.window,
      client: ctx.options.client,
      prefix: `${ctx.runId}-${pipeline.name}`,
      mode: { kind: 'burst', total },
    },
    async (_goAt, devicesPid) => {
      const cpu = new CpuMeter({ ...pipeline.pids, devices: devicesPid });
      const progress = await waitForCount(ctx.kafka.admin, pipeline.topic, total, {
        timeoutMs: 600_000,
      });
      return { ...progress, cpu: cpu.stop() };
    },
  );
  const memory = rss.stop();
  if (done.acked !== total) ctx.log(`  warning: ${done.acked} of ${total} acknowledged`);
  const seconds = (during.doneAt - done.firstPublishAt) / 1000;
  return {
    pipeline: pipeline.name,
    readings: total,
    readingsPerSec: Math.round(total / seconds),
    acksPerSec: Math.round(done.acked / ((done.lastAckAt - done.firstPublishAt) / 1000)),
    seconds: round(seconds, 2),
    cpu: during.cpu,
    forwarderMaxRssMb: round(memory.maxRssMb),
  };
}
