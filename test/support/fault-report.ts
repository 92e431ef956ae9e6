import { gatewayKafkaClient } from '../../scripts/lib/app-process.ts';

/** The line every fault test prints (see ../shared/notes/reliability.md): lost must be 0. */
export interface FaultReport {
  seed: number;
  faults: number;
  acked: number;
  delivered: number;
  lost: number;
  duplicates: number;
}

export function compareDelivery(
  acked: Set<string>,
  deliveredKeys: string[],
): Omit<FaultReport, 'seed' | 'faults'> {
  const counts = new Map<string, number>();
  for (const k of deliveredKeys) counts.set(k, (counts.get(k) ?? 0) + 1);
  let lost = 0;
  for (const k of acked) if (!counts.has(k)) lost += 1;
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  return { acked: acked.size, delivered: counts.size, lost, duplicates };
}

/** With GATEWAY_KAFKA_CLIENT set (scripts/lib/app-process.ts), the line says which client ran. */
export function formatReport(name: string, r: FaultReport): string {
  const client = gatewayKafkaClient();
  return `${name}: seed=${r.seed} faults=${r.faults} acked=${r.acked} delivered=${r.delivered} lost=${r.lost} duplicates=${r.duplicates}${client ? ` gatewayKafkaClient=${client}` : ''}`;
}
