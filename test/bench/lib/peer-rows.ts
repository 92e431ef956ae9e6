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
