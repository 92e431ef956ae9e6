// The peers benchmark's rows (test/bench/hub.ts prints them).
import { availableParallelism } from 'node:os';
import type { HubPeersResult, PeerRun } from '../scenarios/hub-peers.ts';
import { round } from './proc.ts';
import { median } from './stats.ts';

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
    return values.length === 0 ? undefined : Math.round(median(values) * 100) / 100;
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

/**
 * The peers part of the hub benchmark, as test/bench/hub.ts prints it: every run (when more
 * than one round), the medians, the ceilings, the goals, the profile and the two clients.
 */
export function peersReport(side: HubPeersResult, records: number): string[] {
  const out: string[] = [];
  const rounds = side.runs.telegraf.length;
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  out.push(
    `  peers: ${records} records waiting in Kafka, each process from its start until the last point is queryable in InfluxDB`,
  );
  if (rounds > 1) {
    out.push(`    each run, in turn (${rounds} rounds):`);
    const runs = [side.runs.telegraf, side.samePoints.runs, ...Object.values(side.runs.hubs)];
    for (let r = 0; r < rounds; r += 1)
      for (const path of runs) {
        const run = path[r];
        if (run) out.push(`  ${peerRow(run)}`);
      }
    const rates = side.runs.telegraf.map((t, r) =>
      round((side.runs.hubs.kafkajs?.[r]?.readingsPerSec ?? 0) / t.readingsPerSec, 2),
    );
    out.push(`    hub (kafkajs) / Telegraf readings/s, round by round: ${rates.join(', ')}`);
    out.push('    medians (peak RSS: the highest):');
  }
  out.push(peerRow(side.telegraf), peerRow(side.samePoints.run));
  for (const h of side.hubs) out.push(peerRow(h.run));
  for (const r of [side.telegraf, side.samePoints.run, ...side.hubs.map((h) => h.run)]) {
    const line = ceilingRow(r);
    if (line) out.push(line);
  }
  for (const h of side.hubs)
    out.push(
      `    hub (${h.client}) / Telegraf: CPU per reading ${h.cpuRatio}x (goal <= 1.5x: ${met(h.cpuRatio <= 1.5)}), readings/s ${h.rateRatio}x (goal >= 0.75x: ${met(h.rateRatio >= 0.75)}), peak RSS ${h.run.peakRssMb} MB (goal <= 150 MB: ${met(h.run.peakRssMb <= 150)})`,
    );
  const same = side.samePoints;
  out.push(
    same.difference === undefined
      ? `    hub (${side.hubs[0]?.client}) / Telegraf writing the hub's points (the same series and fields in InfluxDB; beside the goals, not one): CPU per reading ${same.cpuRatio}x, readings/s ${same.rateRatio}x`
      : `    Telegraf's points were not the hub's, no ratio: ${same.difference}`,
  );
  const p = side.profile;
  out.push(
    `    where the hub's time goes (kafkajs, a separate run under the CPU profiler): busy ${(p.busyMs / 1000).toFixed(1)} s of ${(p.totalMs / 1000).toFixed(1)} s (the rest waiting for Kafka and InfluxDB)`,
  );
  for (const part of p.parts)
    out.push(
      `      ${(part.share * 100).toFixed(1).padStart(5)}%  ${part.ms.toFixed(0).padStart(6)} ms  ${part.part}`,
    );
  const [js, pk] = side.hubs;
  if (js && pk)
    out.push(
      `    platformatic / kafkajs hub: readings/s ${round(pk.run.readingsPerSec / js.run.readingsPerSec, 2)}x, CPU per reading ${round(pk.run.cpuPer100k / js.run.cpuPer100k, 2)}x, peak RSS ${round(pk.run.peakRssMb / js.run.peakRssMb, 2)}x`,
    );
  return out;
}
