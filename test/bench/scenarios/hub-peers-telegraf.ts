// Telegraf's side of the peers benchmark (hub-peers.ts): Telegraf over the same records into
// the same InfluxDB, writing a point per record as its users would, or the hub's own points
// (lib/telegraf.ts), and the check that the latter are the hub's.
import { count, measurementShape } from '../lib/influx-wait.ts';
import { cpuSeconds, sleep } from '../lib/proc.ts';
import {
  ensureTelegraf,
  kafkaToInfluxConfig,
  startTelegraf,
  type TelegrafPoints,
} from '../lib/telegraf.ts';
import { type HubPeersOptions, measure, type PeerRun, serviceCpu } from './peer-measure.ts';

/** Telegraf's path, by the points it writes (lib/telegraf.ts): its name in the rows. */
const TELEGRAF_PATHS: Record<TelegrafPoints, string> = {
  record: 'Telegraf 1.36 (kafka_consumer -> influxdb)',
  hub: "Telegraf 1.36 writing the hub's points",
};

export async function telegrafRun(
  o: HubPeersOptions,
  points: TelegrafPoints = 'record',
): Promise<PeerRun> {
  const bin = await ensureTelegraf(o.log);
  const start = (topic: string, database: string) =>
    startTelegraf(
      bin,
      kafkaToInfluxConfig(
        {
          brokers: o.brokers,
          topic,
          group: `telegraf-${points}-${o.run}`,
          influxUrl: o.influxUrl,
          database,
        },
        points,
      ),
      o.dir,
      'telegraf-hub',
      /\[agent\] Config/,
    );
  const idle = await start(o.emptyTopic, `telegraf_idle_${points}_${o.run}`);
  await sleep(2000);
  const startupCpu = cpuSeconds(idle.child.pid as number) ?? 0;
  await idle.stop();
  const database = points === 'record' ? `telegraf_${o.run}` : `telegraf_hubpoints_${o.run}`;
  const started = Date.now();
  const services = serviceCpu(o);
  const telegraf = await start(o.topic, database);
  const pid = telegraf.child.pid as number;
  try {
    return await measure(
      TELEGRAF_PATHS[points],
      pid,
      started,
      startupCpu,
      {
        db: database,
        rp: 'autogen',
        points: points === 'record' ? o.records : 2 * o.records,
        counted: () =>
          count(o.influxUrl, database, '"readings"', points === 'record' ? 'temperature' : 'value'),
      },
      o.records,
      o.influxUrl,
      services,
    );
  } finally {
    await telegraf.stop();
  }
}

/**
 * Whether Telegraf's `readings` in `telegrafDb` are the hub's in `hubDb`: the same series
 * keys, the same fields and types. Undefined when they are; else what differs.
 */
export async function sameShape(o: HubPeersOptions, telegrafDb: string, hubDb: string) {
  const [t, h] = await Promise.all([
    measurementShape(o.influxUrl, telegrafDb, 'readings'),
    measurementShape(o.influxUrl, hubDb, 'readings'),
  ]);
  const differ = (a: string[], b: string[]) => a.filter((x) => !b.includes(x)).slice(0, 3);
  for (const part of ['series', 'fields'] as const) {
    const onlyTelegraf = differ(t[part], h[part]);
    const onlyHub = differ(h[part], t[part]);
    if (onlyTelegraf.length > 0 || onlyHub.length > 0)
      return `${part} ${t[part].length} (Telegraf) / ${h[part].length} (hub); only Telegraf's: ${onlyTelegraf.join('; ')}; only the hub's: ${onlyHub.join('; ')}`;
  }
  return undefined;
}
