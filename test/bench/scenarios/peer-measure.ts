// What the peers benchmark (hub-peers.ts) measures of one path's process: readings/s from its
// start until the last point is queryable, its CPU per 100k readings and peak RSS, and the CPU
// InfluxDB and Kafka spent beside it.
import { type Target, waitForPoints } from '../lib/influx-wait.ts';
import { CpuMeter, cpuSeconds, readMemory, round } from '../lib/proc.ts';

export interface HubPeersOptions {
  brokers: string[];
  influxUrl: string;
  /** The topic holding `records` readings (2 metrics each), not consumed by anyone yet. */
  topic: string;
  /** An empty topic: a hub started on it measures the start-up CPU alone. */
  emptyTopic: string;
  records: number;
  rulesFile: string;
  dir: string;
  run: string;
  log: (m: string) => void;
  /**
   * The InfluxDB and Kafka processes (when the bench started them itself): their CPU during
   * each run is the load that run put on the services beside it, on the same cores.
   */
  servicePids?: { influx: number | undefined; kafka: number[] };
}

export interface PeerRun {
  path: string;
  readingsPerSec: number;
  cpuPer100k: number;
  /**
   * CPU seconds of starting up alone (the same process started with nothing to read, until it
   * is ready: loading its modules), taken off `cpuPer100k`.
   */
  startupCpu: number;
  peakRssMb: number;
  seconds: number;
  /** CPU seconds per 100k readings InfluxDB and Kafka spent during the run (if known). */
  influxCpuPer100k?: number;
  kafkaCpuPer100k?: number;
}

/**
 * Reads CPU and peak RSS of `pid` (still running) once the target's points are in InfluxDB
 * (lib/influx-wait.ts); the time and the CPU figures are those of the counters' poll that
 * showed them (before the confirming count).
 */
export async function measure(
  path: string,
  pid: number,
  started: number,
  startupCpu: number,
  target: Target,
  readings: number,
  influxUrl: string,
  services: CpuMeter | undefined,
): Promise<PeerRun> {
  const { at, snapshot } = await waitForPoints(influxUrl, target, path, () => ({
    cpu: cpuSeconds(pid) ?? Number.NaN,
    used: services?.stop() ?? {},
  }));
  const seconds = (at - started) / 1000;
  const work = snapshot.cpu - startupCpu;
  const per100k = (cpu: number | undefined) =>
    cpu === undefined ? undefined : round((cpu / readings) * 100_000, 2);
  const { used } = snapshot;
  const kafkaNodes = Object.keys(used).filter((k) => k.startsWith('kafka-'));
  const kafka =
    kafkaNodes.length > 0 ? kafkaNodes.reduce((sum, k) => sum + (used[k] ?? 0), 0) : undefined;
  return {
    path,
    readingsPerSec: Math.round(readings / seconds),
    cpuPer100k: round((work / readings) * 100_000, 2),
    startupCpu: round(startupCpu, 2),
    peakRssMb: round(readMemory(pid)?.hwmMb ?? Number.NaN, 1),
    seconds: round(seconds, 2),
    influxCpuPer100k: per100k(used.influx),
    kafkaCpuPer100k: per100k(kafka),
  };
}

/** From now: the CPU InfluxDB and each Kafka node use (when the bench started them). */
export function serviceCpu(o: HubPeersOptions): CpuMeter | undefined {
  const pids = o.servicePids;
  if (!pids) return undefined;
  return new CpuMeter({
    influx: pids.influx,
    ...Object.fromEntries(pids.kafka.map((pid, i) => [`kafka-${i + 1}`, pid])),
  });
}
