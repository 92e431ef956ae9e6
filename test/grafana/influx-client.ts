/** One InfluxQL statement's result as InfluxDB's HTTP API returns it (`/query?epoch=ms`). */
export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface StatementResult {
  statement_id: number;
  series?: Series[];
  error?: string;
}

/**
 * Runs InfluxQL the way Grafana's InfluxDB data source does: `GET /query` with `db`, `q` and
 * `epoch=ms`. An HTTP or statement error throws with InfluxDB's message.
 */
export async function influxQuery(
  url: string,
  database: string,
  q: string,
): Promise<StatementResult[]> {
  const params = new URLSearchParams({ db: database, q, epoch: 'ms' });
  const res = await fetch(`${url}/query?${params}`);
  const body = (await res.json()) as { results?: StatementResult[]; error?: string };
  if (!res.ok || body.error) throw new Error(`InfluxDB ${res.status}: ${body.error} (${q})`);
  const results = body.results ?? [];
  const failed = results.find((r) => r.error);
  if (failed) throw new Error(`InfluxDB: ${failed.error} (${q})`);
  return results;
}

/** The single statement's series (empty when no data). */
export async function influxSeries(url: string, database: string, q: string): Promise<Series[]> {
  const [result] = await influxQuery(url, database, q);
  return result?.series ?? [];
}
