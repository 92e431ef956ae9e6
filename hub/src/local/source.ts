import { backoffMs } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { AssignmentListener, BatchHandler, SourceBatch, SourceCounters } from '../ports.ts';
import type { LocalLog } from './log.ts';

export interface LocalSourceOptions {
  log: LocalLog;
  logger: Logger;
  batchSize?: number;
  /** How long after ingest a record's (gatewayId, gatewaySeq) still marks a resend. */
  dedupWindowMs?: number;
  backoff?: { minMs: number; maxMs: number };
  now?: () => number;
}

/**
 * Single-box mode's consumer: reads the local log as partition 0, in offset order, from the
 * checkpointed offset; a batch is handed to the pipeline and the position moves only when the
 * pipeline resolved (written and checkpointed). A failed batch is retried with backoff, never
 * skipped. Covered entries are pruned. Same contract as KafkaReadingSource.
 */
export class LocalSource {
  readonly counters: SourceCounters = {
    records: 0,
    invalid: 0,
    writeFailures: 0,
    batches: 0,
    legacyControl: 0,
  };
  readonly connected = true;
  private running = false;
  private wakeUp: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: LocalSourceOptions) {}

  async start(handle: BatchHandler, onAssign: AssignmentListener): Promise<void> {
    const { log } = this.options;
    onAssign([0]);
    const checkpoint = (await log.load([0])).get(0);
    let position = checkpoint?.offset ?? '-1';
    this.running = true;
    this.unsubscribe = log.onAppend(() => this.wakeUp?.());
    this.done = (async () => {
      let attempt = 0;
      let lastPrune = 0;
      /** The newest offset a checkpoint covers: only up to there may the log be pruned. */
      let covered = position;
      let last: SourceBatch | undefined;
      while (this.running) {
        const entries = log.read(position, this.options.batchSize ?? 5000);
        if (entries.length === 0) {
          if (last && covered !== position) {
            // Quiet: have the pipeline checkpoint what it processed (see Pipeline.flush).
            const result = await handle({
              ...last,
              records: [],
              invalid: [],
              flush: true,
            }).catch((err: unknown) => {
              this.options.logger.warn({ err }, 'checkpoint on a quiet log failed; retrying');
              return covered;
            });
            const was = covered;
            covered = typeof result === 'string' ? result : position;
            // Not checkpointed (a failure, or its cost says not yet): ask again in a while.
            if (covered === was) await this.sleep(1000);
            continue;
          }
          await this.sleep(1000);
          continue;
        }
        const batch: SourceBatch = {
          partition: 0,
          lastOffset: (entries.at(-1) as (typeof entries)[number]).offset,
          highWatermark: String(Number(log.end()) + 1),
          fetchedFrom: String(Number(position) + 1), // entries after `position`
          records: [],
          invalid: [],
        };
        for (const e of entries) {
          if (e.record) batch.records.push({ offset: e.offset, record: e.record });
          else this.counters.legacyControl += 1; // a tick an older hub wrote
        }
        try {
          const result = await handle(batch);
          covered = typeof result === 'string' ? result : batch.lastOffset;
        } catch (err) {
          attempt += 1;
          this.counters.writeFailures += 1;
          const delay = backoffMs(attempt, this.options.backoff ?? { minMs: 200, maxMs: 10_000 });
          this.options.logger.warn({ err, retryInMs: delay }, 'write failed; retrying batch');
          await this.sleep(delay);
          // The pipeline rebuilds from its checkpoint; offer what it has not covered again.
          position = covered;
          continue;
        }
        attempt = 0;
        position = batch.lastOffset;
        last = batch;
        this.counters.batches += 1;
        this.counters.records += entries.length;
        const now = (this.options.now ?? Date.now)();
        if (now - lastPrune > 10_000) {
          lastPrune = now;
          log.prune(covered, now - (this.options.dedupWindowMs ?? 600_000));
        }
      }
    })();
  }

  /** The oldest offset the log still holds (Pipeline.retainedFrom). */
  async retainedFrom(_partition: number): Promise<string> {
    return this.options.log.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wakeUp?.();
    await this.done;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
