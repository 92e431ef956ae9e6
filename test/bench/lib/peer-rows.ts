// The peers benchmark's rows (test/bench/hub.ts prints them).
import { availableParallelism } from 'node:os';
import type { PeerRun } from '../scenarios/hub-peers.ts';

/** One path's figures, and the CPU InfluxDB and Kafka spent meanwhile (when known). */
export function peerRow(r: PeerRun): string {
  const services =
    r.influxCpuPer100k === undefined
      ? ''
      : `; InfluxDB ${r.influxCpuPer100k.toFixed(2)}, Kafka ${r.kafkaCpuPer100k?.toFixed(2)} CPU s/100k meanwhile`;
  return `    ${r.path.padEnd(52)} ${String(r.readingsPerSec).padStart(7)} readings/s  ${r.cpuPer100k.toFixed(2).padStart(6)} CPU s/100k  ${r.peakRssMb.toFixed(0).padStart(5)} MB peak RSS  (start-up CPU ${r.startupCpu} s taken off)${services}`;
}

/**
 * The most readings/s this machine's cores allow the path, given the CPU it and the services
 * beside it spend per reading (all on the same cores), and how near the run came: when a run
 * is near its ceiling, only less CPU per reading (its own or the services') makes it faster.
 * Undefined when the services' CPU is not known.
 */
export function ceilingRow(r: PeerRun, cores = availableParallelism()): string | undefined {
  if (r.influxCpuPer100k === undefined) return undefined;
  const total = r.cpuPer100k + r.influxCpuPer100k + (r.kafkaCpuPer100k ?? 0);
  const ceiling = Math.round((cores * 100_000) / total);
  const share = Math.round((r.readingsPerSec / ceiling) * 100);
  return `    ${r.path.split(',')[0]} with the services: ${total.toFixed(2)} CPU s/100k, a ceiling of ${ceiling} readings/s on ${cores} cores; the run reached ${share}% of it`;
}

/**
 * One row for a path's rounds: the median of each rate and CPU figure (one run's speed moves by
 * a third on this machine from run to run, Telegraf's most), the highest peak RSS (the goal is
 * a peak). The run itself when there is one.
 */
export function medianRun(runs: readonly PeerRun[]): PeerRun {
  const [first] = runs;
  if (!first) throw new Error('no runs');
  if (runs.length === 1) return first;
  const mid = (pick: (r: PeerRun) => number | undefined): number | undefined => {
    const values = runs.map(pick).filter((v): v is number => v !== undefined);
    if (values.length === 0) return undefined;
    const s = values.sort((a, b) => a - b);
    const m = s.length >> 1;
    const median =
      s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
    return Math.round(median * 100) / 100;
  };
  return {
    path: `${first.path}, median of ${runs.length}`,
    readingsPerSec: Math.round(mid((r) => r.readingsPerSec) as number),
    cpuPer100k: mid((r) => r.cpuPer100k) as number,
    startupCpu: mid((r) => r.startupCpu) as number,
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
    seconds: mid((r) => r.seconds) as number,
    influxCpuPer100k: mid((r) => r.influxCpuPer100k),
    kafkaCpuPer100k: mid((r) => r.kafkaCpuPer100k),
  };
}
