import { join } from 'node:path';
import type { GatewayStatusRecord } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { HubConfig } from '../config.ts';
import { InfluxQueries } from '../influx/queries.ts';
import { InfluxStore } from '../influx/store.ts';
import type { BatchOutput, HubQueries, ReadingStore } from '../ports.ts';
import { SqliteQueries } from '../sqlite/queries.ts';
import { SqliteStore } from '../sqlite/store.ts';
import type { Sample } from '../store/points.ts';

/** What the hub writes to and the REST API reads from: InfluxDB, or SQLite without it. */
export interface HubStore extends ReadingStore {
  writeBatch(batch: BatchOutput): Promise<void>;
  writeHealth(point: Sample): Promise<void>;
  writeGatewayStatus(records: readonly GatewayStatusRecord[]): Promise<void>;
}

export interface OpenedStore {
  kind: 'influx' | 'sqlite';
  store: HubStore;
  queries: HubQueries;
  close(): void;
}

/** InfluxDB when `influx.url` is set, else the SQLite store in `storage.dir`/store.db. */
export async function openStore(
  config: HubConfig,
  logger: Logger,
  retry: (fn: () => Promise<void>, what: string) => Promise<void>,
): Promise<OpenedStore> {
  const { influx } = config;
  if (influx.url) {
    const store = new InfluxStore({
      ...influx,
      url: influx.url,
      onBeyondRetention: (dropped, rp) =>
        logger.warn(
          { dropped, retentionPolicy: rp, key: 'influx.rawRetention' },
          'InfluxDB dropped points older than their retention policy (the rest was written)',
        ),
      onUnchecked: (reason) =>
        logger.warn(
          { reason, key: 'influx.manageSchema' },
          'could not check the InfluxDB database and retention policies; writing anyway',
        ),
    });
    await retry(() => store.init(), 'InfluxDB');
    logger.info({ url: influx.url, database: influx.database }, 'InfluxDB ready');
    return {
      kind: 'influx',
      store,
      queries: new InfluxQueries(store),
      close: () => void store.close(),
    };
  }
  const path = join(config.storage.dir, 'store.db');
  const store = new SqliteStore({
    path,
    rawRetention: influx.rawRetention,
    aggregateRetention: influx.aggregateRetention,
  });
  await store.init();
  logger.info({ path }, 'SQLite store ready (no influx.url)');
  return { kind: 'sqlite', store, queries: new SqliteQueries(store), close: () => store.close() };
}
