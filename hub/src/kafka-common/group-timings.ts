/**
 * A consumer group's timings from `kafka.sessionTimeoutMs` (default 30 s), the same for every
 * group the hub joins (readings, gateway status) with either client: heartbeats every tenth of
 * the session; a rebalance may take two sessions (@platformatic/kafka refuses one shorter than
 * the session; kafkajs keeps its own 60 s).
 */
export function groupTimings(sessionTimeoutMs = 30_000) {
  return {
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.floor(sessionTimeoutMs / 10),
    rebalanceTimeout: 2 * sessionTimeoutMs,
  };
}
