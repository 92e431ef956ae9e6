import type { OutboxStats } from '../ports.ts';
import type { IngestCounters } from '../sources/ingest.ts';

/** Everything health, metrics and status records report: one read of the gateway's state. */
export interface GatewaySnapshot {
  gatewayId: string;
  time: number;
  startedAt: number;
  kafka: { connected: boolean; lastError: string | null };
  outbox: OutboxStats & {
    oldestAgeMs: number | null;
    lastWriteError: string | null;
    recoveredFrom: { movedTo: string; reason: string } | null;
  };
  /** Per input (`mqtt`, `mqttExternal`): what it received and did with it. */
  sources: Record<
    string,
    IngestCounters & {
      rejected?: Record<string, number>;
      /** Evidence from unauthenticated peers counted but not stored (over their rate), by code. */
      rateLimited?: Record<string, number>;
    }
  >;
  forwarder: { forwarded: number; batches: number; failures: number };
}

export interface Readiness {
  ready: boolean;
  checks: { outboxWritable: boolean; kafkaReachable: boolean; backlogAgeOk: boolean };
}

/** Ready = the outbox takes writes, Kafka answers, and the backlog is not older than allowed. */
export function readiness(s: GatewaySnapshot, maxBacklogAgeMs: number): Readiness {
  const checks = {
    outboxWritable: s.outbox.lastWriteError === null,
    kafkaReachable: s.kafka.connected && s.kafka.lastError === null,
    backlogAgeOk: s.outbox.oldestAgeMs === null || s.outbox.oldestAgeMs <= maxBacklogAgeMs,
  };
  return { ready: checks.outboxWritable && checks.kafkaReachable && checks.backlogAgeOk, checks };
}
