import { IotError } from '@iot-stream/contracts';
import { type InfluxDB, ResultError } from 'influx';
import { LONG_RP, RAW_RP } from '../store/points.ts';

const HOW_TO =
  'create them as docs/influxdb.md shows (1.x: CREATE DATABASE / CREATE RETENTION POLICY; ' +
  '2.x: buckets and DBRP mappings; 3: databases named <db>/<rp>)';

/**
 * Creates the database if missing, and its retention policies (`durations`: name -> InfluxQL
 * duration; the first is the default) or alters them to the durations. A refusal no retry can
 * mend (credentials, rights, a server without these statements) stops with its own code.
 */
export async function ensureSchema(
  influx: InfluxDB,
  database: string,
  durations: Record<string, string>,
): Promise<void> {
  const names = await schemaStep('SHOW DATABASES', () => influx.getDatabaseNames());
  if (!names.includes(database))
    await schemaStep(`CREATE DATABASE "${database}"`, () => influx.createDatabase(database));
  const existing = await schemaStep(`SHOW RETENTION POLICIES ON "${database}"`, () =>
    influx.showRetentionPolicies(database),
  );
  for (const [i, [name, duration]] of Object.entries(durations).entries()) {
    const options = { database, duration, replication: 1, isDefault: i === 0 };
    const verb = existing.some((e) => e.name === name) ? 'ALTER' : 'CREATE';
    await schemaStep(`${verb} RETENTION POLICY "${name}" ON "${database}"`, () =>
      verb === 'ALTER'
        ? influx.alterRetentionPolicy(name, options)
        : influx.createRetentionPolicy(name, options),
    );
  }
}

/**
 * influx.manageSchema false: the database and both retention policies must already be there.
 * A server that cannot answer the question (no such statement) is told to `onUnchecked` and
 * trusted: its first write will tell.
 */
export async function checkSchema(
  influx: InfluxDB,
  database: string,
  onUnchecked?: (reason: string) => void,
): Promise<void> {
  const statement = `SHOW RETENTION POLICIES ON "${database}"`;
  let existing: Array<{ name: string }>;
  try {
    existing = await influx.showRetentionPolicies(database);
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof ResultError && /database not found/i.test(message))
      throw new IotError(
        'INFLUX_SCHEMA_MISSING',
        `InfluxDB has no database "${database}" (influx.manageSchema is false): ${HOW_TO}`,
        { cause: err },
      );
    if (statusOf(err) === 403)
      throw new IotError(
        'INFLUX_AUTH_FAILED',
        `InfluxDB does not let this user read database "${database}" (HTTP 403 to ${statement}): ` +
          `the hub writes and queries it, so grant it both (1.x: GRANT ALL ON "${database}" TO ...); ${message}`,
        { cause: err },
      );
    const refused = schemaRefusal(err, statement);
    if (refused?.code === 'INFLUX_AUTH_FAILED') throw refused;
    if (!refused) throw err; // unreachable or 5xx: the caller retries
    onUnchecked?.(`${statement} failed: ${message}`);
    return;
  }
  const missing = [RAW_RP, LONG_RP].filter((rp) => !existing.some((e) => e.name === rp));
  if (missing.length > 0)
    throw new IotError(
      'INFLUX_SCHEMA_MISSING',
      `InfluxDB database "${database}" has no retention polic${missing.length > 1 ? 'ies' : 'y'} ` +
        `${missing.map((m) => `"${m}"`).join(' and ')} (influx.manageSchema is false): ${HOW_TO}`,
    );
}

/** One schema statement; a refusal no retry can mend becomes an error that stops the hub. */
async function schemaStep<T>(statement: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw schemaRefusal(err, statement) ?? err;
  }
}

/**
 * InfluxDB's answer to a schema statement, when no retry can change it: refused credentials
 * (401), or a statement the server refuses (403 or an error in the result: no admin rights, or
 * InfluxDB 2.x / 3, which lack these statements). Unreachable or 5xx: undefined (retried).
 */
export function schemaRefusal(err: unknown, statement: string): IotError | undefined {
  const message = (err as Error).message.trim();
  const status = statusOf(err);
  if (status === 401)
    return new IotError(
      'INFLUX_AUTH_FAILED',
      `InfluxDB refused the credentials for ${statement} (HTTP 401): check influx.username / ` +
        `influx.password or influx.token; ${message}`,
      { cause: err },
    );
  if (err instanceof ResultError || (status !== undefined && status >= 400 && status < 500))
    return new IotError(
      'INFLUX_SCHEMA_REFUSED',
      `InfluxDB refused ${statement}: ${message}. Give the hub a user with admin rights, or set ` +
        'influx.manageSchema: false and create the database and its "raw" and "long" retention ' +
        'policies yourself (docs/influxdb.md)',
      { cause: err },
    );
  return undefined;
}

/** The HTTP status of the library's RequestError (not exported; it carries the response). */
function statusOf(err: unknown): number | undefined {
  return (err as { res?: { statusCode?: number } } | null)?.res?.statusCode;
}
