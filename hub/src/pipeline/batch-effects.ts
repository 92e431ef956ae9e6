import type { Logger } from 'pino';
import type { TransitionType } from '../detect/episodes.ts';
import { type Notification, notificationsOf } from '../notify/notifications.ts';
import type { BatchOutput, DeadLetter, Outputs } from '../ports.ts';
import type { PartitionOutput } from '../processing/partition-processor.ts';
import { writeIsolating } from './batch-writer.ts';
import type { EffectCounters } from './counters.ts';

export interface BatchEffectsOptions {
  store: { writeBatch(batch: BatchOutput): Promise<void> };
  outputs: Outputs;
  /** Where the records came from, for the dead letters (the readings topic, say). */
  source: string;
  log: Logger;
  /** Notifications are made of these episode events when `notify` is on. */
  notify: boolean;
  notifyOn?: readonly TransitionType[];
  /** Told when a batch's outputs were acknowledged by the store (benchmarks, tests). */
  onWritten?: (out: PartitionOutput, ackedAt: number) => void;
}

/**
 * What a processed batch (or punctuation) does to the world, in order: the store write
 * (isolating what the store refuses), then the dead letters (invalid and refused records), then
 * the episode events. Resolves once all are acknowledged, with the notifications to checkpoint.
 */
export class BatchEffects {
  readonly counters: EffectCounters = {
    readings: 0,
    duplicates: 0,
    tooLate: 0,
    rejected: 0,
    aggregates: 0,
    episodeEvents: 0,
    writes: 0,
    writeMs: 0,
    writeMsMax: 0,
    writeRejected: 0,
    writeRejectedDerived: 0,
  };

  constructor(private readonly options: BatchEffectsOptions) {}

  async carryOut(
    partition: number,
    out: PartitionOutput,
    dead: DeadLetter[],
  ): Promise<Notification[]> {
    const { log, source } = this.options;
    const writeStart = performance.now();
    const written = await writeIsolating((b) => this.options.store.writeBatch(b), out);
    const writeMs = performance.now() - writeStart;
    const c = this.counters;
    c.writes += 1;
    c.writeMs += writeMs;
    c.writeMsMax = Math.max(c.writeMsMax, writeMs);
    this.options.onWritten?.(out, Date.now());
    const from = { topic: source, partition };
    for (const r of out.rejected) {
      dead.push({ ...reading(r.record), code: r.code, reason: r.reason, source: from });
      log.warn(
        { partition, deviceId: r.record.deviceId, code: r.code, reason: r.reason },
        'reading rejected: dead-lettered',
      );
    }
    for (const r of written.rejected) {
      dead.push({ ...reading(r.record), code: 'STORE_REJECTED', reason: r.reason, source: from });
      log.error(
        { partition, deviceId: r.record.deviceId, reason: r.reason },
        'the store refused a reading: dead-lettered',
      );
    }
    if (written.rejectedDerived > 0)
      log.error(
        { partition, n: written.rejectedDerived },
        'the store refused aggregates or episode points; left out',
      );
    for (const t of out.tooLate)
      log.debug(
        { partition, deviceId: t.record.deviceId, reason: t.tooLate.reason },
        'reading too late for its windows: stored raw, not aggregated',
      );
    await this.options.outputs.deadLetters(dead);
    await this.options.outputs.episodes(out.events);
    c.readings += out.readings.length - written.rejected.length;
    c.duplicates += out.duplicates;
    c.tooLate += out.tooLate.length;
    c.rejected += out.rejected.length;
    c.writeRejected += written.rejected.length;
    c.writeRejectedDerived += written.rejectedDerived;
    c.aggregates += out.aggregates.length;
    c.episodeEvents += out.events.length;
    return this.options.notify
      ? notificationsOf(out.events, this.options.notifyOn ?? ['opened', 'renotify', 'closed'])
      : [];
  }
}

function reading(r: { deviceId: string }): Pick<DeadLetter, 'key' | 'value'> {
  return { key: r.deviceId, value: JSON.stringify(r) };
}
