// Waiting until a run's points are in InfluxDB without loading it: its own shard counters
// (SHOW STATS), then one count query to confirm (the peers benchmark, scenarios/hub-peers.ts).
import { influxSeries } from '../../grafana/influx-client.ts';
import { sleep } from './proc.ts';

/** `SELECT count(field)` of one measurement, 0 while it does not exist yet. */
export async function count(influxUrl: string, db: string, from: string, field: string) {
  const q = `SELECT count("${field}") FROM ${from}`;
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ db, q })}`);
  const body = (await res.json()) as {
    results?: Array<{ series?: Array<{ values: Array<[string, number]> }> }>;
  };
  return body.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
}

/**
 * What one measurement holds, to compare two writers' points: its series keys (`SHOW SERIES`)
 * and its fields with their types (`SHOW FIELD KEYS`), sorted.
 */
export async function measurementShape(influxUrl: string, db: string, measurement: string) {
  const rows = async (q: string) =>
    (await influxSeries(influxUrl, db, q)).flatMap((s) => s.values.map((v) => v.join(' '))).sort();
  return {
    series: await rows(`SHOW SERIES FROM "${measurement}"`),
    fields: await rows(`SHOW FIELD KEYS FROM "${measurement}"`),
  };
}

/**
 * Points InfluxDB took into the shards of `db`'s retention policy `rp` (SHOW STATS, its own
 * counters: a millisecond or two, whatever the data). A count query scans the points: over the
 * hub's 400,000 it costs InfluxDB about 140 ms of CPU, so polling it four times a second took a
 * quarter of a core from the process measured, on the same cores, and more from the run that
 * wrote more points for longer.
 */
async function pointsWritten(influxUrl: string, db: string, rp: string) {
  const q = "SHOW STATS FOR 'shard'";
  const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ q })}`);
  const body = (await res.json()) as {
    results?: Array<{
      series?: Array<{ tags?: Record<string, string>; columns: string[]; values: number[][] }>;
    }>;
  };
  let points = 0;
  for (const s of body.results?.[0]?.series ?? []) {
    if (s.tags?.database !== db || s.tags?.retentionPolicy !== rp) continue;
    points += s.values[0]?.[s.columns.indexOf('writePointsOk')] ?? 0;
  }
  return points;
}

/** Where the `points` a run must write land, and how to count them once they are all there. */
export interface Target {
  db: string;
  rp: string;
  points: number;
  counted: () => Promise<number>;
}

/**
 * Resolves with the time (ms) of the counters' poll (every 100 ms) that showed the target's
 * points written, once a count query then finds them all (written points are queryable at
 * once in InfluxDB 1.x; the count makes sure they are the measurement's, not another's in the
 * same policy), and what `snapshot` read right after that poll: before the count, whose own
 * cost (InfluxDB's CPU) is not the run's. A failed count is tried again. Throws after 10 minutes.
 */
export async function waitForPoints<T>(
  influxUrl: string,
  target: Target,
  what: string,
  snapshot: () => T,
): Promise<{ at: number; snapshot: T }> {
  const deadline = Date.now() + 600_000;
  let tried = 0;
  for (;;) {
    const written = await pointsWritten(influxUrl, target.db, target.rp).catch(() => 0);
    const at = Date.now();
    if (written >= target.points && written !== tried) {
      const taken = snapshot();
      const counted = await target.counted().catch(() => undefined);
      if (counted !== undefined) tried = written;
      if (counted !== undefined && counted >= target.points) return { at, snapshot: taken };
    }
    if (at > deadline) throw new Error(`${what}: ${written} of ${target.points} points in 10 min`);
    await sleep(100);
  }
}
