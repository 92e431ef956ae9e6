import type { OutboxStats, SourceCounters, UplinkKind } from '../ports.ts';

/** The uplink as health, metrics and status records report it, whichever it is. */
export interface UplinkState {
  kind: UplinkKind;
  /** The sink connected (Kafka's producer; the hub answered its health endpoint). */
  connected: boolean;
  /** The last failed send's message, cleared by the next successful one. */
  lastError: string | null;
}

/** Everything health, metrics and status records report: one read of the gateway's state. */
export interface GatewaySnapshot {
  gatewayId: string;
  time: number;
  startedAt: number;
  uplink: UplinkState;
  outbox: OutboxStats & {
    oldestAgeMs: number | null;
    lastWriteError: string | null;
    recoveredFrom: { movedTo: string; reason: string } | null;
  };
  /** Per input (`mqtt`, `mqttExternal`, `serial:<path>`): what it received and did with it. */
  sources: Record<string, SourceCounters>;
  forwarder: { forwarded: number; batches: number; failures: number };
}

/**
 * The snapshot as `/health` and status records carry it: with `kafka`, the name the uplink's
 * state had before `uplink`, whatever the uplink is. The hub reads `kafka.connected` from
 * status records (InfluxDB field `kafka_connected`) and scripts read it from `/health`.
 */
export type PublishedSnapshot = GatewaySnapshot & {
  kafka: { connected: boolean; lastError: string | null };
};

export function published(s: GatewaySnapshot): PublishedSnapshot {
  return { ...s, kafka: { connected: s.uplink.connected, lastError: s.uplink.lastError } };
}

/** What the snapshot is read from (the adapters, seen only through what they report). */
export interface SnapshotParts {
  gatewayId: string;
  startedAt: number;
  now: () => number;
  outbox: {
    stats(): OutboxStats;
    readonly lastWriteError?: string | undefined;
    readonly recovered?: { movedTo: string; reason: string } | undefined;
  };
  uplink: () => UplinkState;
  sources: () => Record<string, SourceCounters>;
  forwarder: { readonly counters: GatewaySnapshot['forwarder'] };
}

/** Reads the gateway's state once. */
export function takeSnapshot(p: SnapshotParts): GatewaySnapshot {
  const time = p.now();
  const stats = p.outbox.stats();
  return {
    gatewayId: p.gatewayId,
    time,
    startedAt: p.startedAt,
    uplink: p.uplink(),
    outbox: {
      ...stats,
      oldestAgeMs: stats.oldestReceivedAt === null ? null : time - stats.oldestReceivedAt,
      lastWriteError: p.outbox.lastWriteError ?? null,
      recoveredFrom: p.outbox.recovered ?? null,
    },
    sources: p.sources(),
    forwarder: { ...p.forwarder.counters },
  };
}

export interface Readiness {
  ready: boolean;
  /** `kafkaReachable` is the uplink's check, Kafka or the hub (the name is kept for probes). */
  checks: { outboxWritable: boolean; kafkaReachable: boolean; backlogAgeOk: boolean };
}

/** Ready = the outbox takes writes, the uplink answers, and the backlog is not older than allowed. */
export function readiness(s: GatewaySnapshot, maxBacklogAgeMs: number): Readiness {
  const checks = {
    outboxWritable: s.outbox.lastWriteError === null,
    kafkaReachable: s.uplink.connected && s.uplink.lastError === null,
    backlogAgeOk: s.outbox.oldestAgeMs === null || s.outbox.oldestAgeMs <= maxBacklogAgeMs,
  };
  return { ready: checks.outboxWritable && checks.kafkaReachable && checks.backlogAgeOk, checks };
}
