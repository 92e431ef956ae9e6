import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, HarnessError } from './errors.ts';
import { type InfluxServer, startInflux } from './influx.ts';
import { type KafkaCluster, startKafka } from './kafka.ts';
import { type Log, stderrLog, tailFile } from './process.ts';
import { forgetScratchDir, removeOnExit } from './reaper.ts';

export interface StartServicesOptions {
  kafkaNodes?: 1 | 3;
  /** Start Kafka (default true). */
  kafka?: boolean;
  /** Start InfluxDB (default true). */
  influx?: boolean;
  /** Where configs, data and logs go. Default: a fresh `iot-services-*` temp dir, deleted on stop. */
  dir?: string;
  log?: Log;
  /** Servers outlive this process (CLI `up`). Default false: they die with it. */
  detached?: boolean;
  /** Per-service readiness timeout (defaults: Kafka 90 s, InfluxDB 30 s). */
  readyTimeoutMs?: number;
}

export interface Services {
  /** PLAINTEXT bootstrap addresses; empty when Kafka was not started. */
  kafkaBrokers: string[];
  /** `http://127.0.0.1:<port>`; '' when InfluxDB was not started. */
  influxUrl: string;
  kafka: KafkaCluster | undefined;
  influx: InfluxServer | undefined;
  dir: string;
  /** Stops everything; deletes the temp dir unless `keepLogs` (a caller-given dir is kept). */
  stop(options?: { keepLogs?: boolean }): Promise<void>;
}

const TAIL_LINES = 30;

/** Starts Kafka and InfluxDB in parallel. On failure nothing is left running and the dir is kept. */
export async function startServices(options: StartServicesOptions = {}): Promise<Services> {
  const log = options.log ?? stderrLog;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'iot-services-')));
  if (ownDir) removeOnExit(dir); // until stop(), or the CLI's releaseAll()
  const { detached = false, readyTimeoutMs } = options;

  const [kafka, influx] = await Promise.allSettled([
    options.kafka === false
      ? undefined
      : startKafka({ nodes: options.kafkaNodes ?? 1, dir, log, detached, readyTimeoutMs }),
    options.influx === false ? undefined : startInflux({ dir, log, detached, readyTimeoutMs }),
  ]);

  const failures: string[] = [];
  if (kafka.status === 'rejected') failures.push(describeFailure('Kafka', kafka.reason));
  if (influx.status === 'rejected') failures.push(describeFailure('InfluxDB', influx.reason));
  if (failures.length > 0) {
    await Promise.all([
      kafka.status === 'fulfilled' ? kafka.value?.stop() : undefined,
      influx.status === 'fulfilled' ? influx.value?.stop() : undefined,
    ]);
    forgetScratchDir(dir); // keep the logs
    const cause =
      kafka.status === 'rejected' ? kafka.reason : (influx as PromiseRejectedResult).reason;
    throw new HarnessError(
      'SERVICE_START_FAILED',
      `${failures.join('\n\n')}\n\n(files kept in ${dir})`,
      { cause, logFile: (cause as HarnessError).logFile },
    );
  }

  const kafkaCluster = kafka.status === 'fulfilled' ? kafka.value : undefined;
  const influxServer = influx.status === 'fulfilled' ? influx.value : undefined;

  let stopped = false;
  return {
    kafkaBrokers: kafkaCluster?.brokers ?? [],
    influxUrl: influxServer?.url ?? '',
    kafka: kafkaCluster,
    influx: influxServer,
    dir,
    async stop({ keepLogs = false } = {}) {
      if (stopped) return;
      stopped = true;
      await Promise.all([kafkaCluster?.stop(), influxServer?.stop()]);
      if (ownDir && !keepLogs) await rm(dir, { recursive: true, force: true });
      forgetScratchDir(dir);
    },
  };
}

/** "<service> failed to start: <reason>", the log path and its last lines. */
export function describeFailure(service: string, err: unknown): string {
  const logFile = err instanceof HarnessError ? err.logFile : undefined;
  let text = `${service} failed to start: ${errorMessage(err)}`;
  if (logFile !== undefined) {
    const tail = tailFile(logFile, TAIL_LINES);
    text += `\nlog: ${logFile}\n--- last ${TAIL_LINES} lines of the log ---\n${tail || '(empty)'}`;
  }
  return text;
}
