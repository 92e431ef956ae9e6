import type { ReadingRecord } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import type { EpisodeEvent } from '../detect/engine-types.ts';
import { checkState } from '../state/state.ts';
import type { Aggregate } from '../windows/window-state.ts';
import type { TooLate } from '../windows/windows-types.ts';
import { StreamCore, type StreamCoreOptions } from './core.ts';
import { SiteMap, type SiteRule, SitesStateSchema } from './sites.ts';

export interface PartitionProcessorOptions {
  core: StreamCoreOptions;
  /** The core is ticked at every multiple of this crossed by the partition's receivedAt. */
  tickIntervalMs: number;
  /** Hub-side site rules (config `sites`). */
  sites?: readonly SiteRule[];
  /**
   * A reading stamped further ahead of its gateway's receive time than this is a clock fault:
   * rejected (dead-lettered as TIME_AHEAD), so it never moves a watermark. Undefined: no limit.
   */
  maxAheadMs?: number;
}

/**
 * A punctuation: the partition's time moved on to `tick` (epoch ms, on the gateways' clock)
 * without readings. Decided by the pipeline for a quiet partition and recorded in its
 * checkpoint before it is applied (see Pipeline.punctuate), so a restart applies it again at
 * the same place.
 */
export interface PartitionTick {
  tick: number;
}

/** A record the processor refused, for the dead-letter topic. */
export interface RejectedRecord {
  record: ReadingRecord;
  code: 'TIME_AHEAD';
  reason: string;
}

/** What a run of records produced, in a deterministic order. */
export interface PartitionOutput {
  /**
   * Records to write as raw readings: all but duplicates and rejected ones. Too-late readings
   * are here too: stored, though their windows are closed (only the correction is dropped).
   */
  readings: ReadingRecord[];
  aggregates: Aggregate[];
  events: EpisodeEvent[];
  /** Readings too late for their windows (stored raw, not aggregated, not scored). */
  tooLate: { record: ReadingRecord; tooLate: TooLate }[];
  /** Readings refused (clock faults), to dead-letter with their reason. */
  rejected: RejectedRecord[];
  duplicates: number;
  /** The site tag of a device, as of the end of this run. */
  siteOf: (deviceId: string) => string;
}

const StateSchema = Type.Object({
  v: Type.Literal(1),
  lastTick: Type.Union([Type.Number(), Type.Null()]),
  /** The newest receivedAt processed (absent in checkpoints of older hubs). */
  newest: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  core: Type.Unknown(),
  sites: Type.Optional(SitesStateSchema),
});
type ProcessorState = Static<typeof StateSchema>;

/**
 * One Kafka partition's stream processing. Time comes only from the records: the core is
 * ticked when the partition's newest `receivedAt` crosses a multiple of `tickIntervalMs`,
 * before the record that crossed it, so the outputs depend on the records and their order
 * alone, never on batch boundaries or the wall clock: a replay gives the same outputs.
 */
export class PartitionProcessor {
  private readonly core: StreamCore;
  private lastTick: number | null = null;
  private newest: number | null = null;
  private readonly sites: SiteMap;

  constructor(private readonly options: PartitionProcessorOptions) {
    this.core = new StreamCore({ ...options.core, scores: false }); // only events are used
    this.sites = new SiteMap(options.sites);
  }

  get counters() {
    return { windows: this.core.windows.counters, detection: this.core.detection.counters };
  }

  /** The newest receivedAt (gateway clock) this partition processed, or null for none. */
  get newestReceivedAt(): number | null {
    return this.newest;
  }

  /** Whether a punctuation at `time` would tick the core (cross a multiple of the interval). */
  wouldTick(time: number): boolean {
    const interval = this.options.tickIntervalMs;
    return this.lastTick !== null && Math.floor(time / interval) * interval > this.lastTick;
  }

  /** Readings, and punctuations of a quiet partition, in their order. */
  process(records: readonly (ReadingRecord | PartitionTick)[]): PartitionOutput {
    const out: PartitionOutput = {
      readings: [],
      aggregates: [],
      events: [],
      tooLate: [],
      rejected: [],
      duplicates: 0,
      siteOf: (deviceId) => this.sites.of(deviceId),
    };
    const interval = this.options.tickIntervalMs;
    for (const record of records) {
      const time = 'tick' in record ? record.tick : record.receivedAt;
      const tickAt = Math.floor(time / interval) * interval;
      if (this.lastTick === null || tickAt > this.lastTick) {
        if (this.lastTick !== null) {
          const t = this.core.tick(tickAt);
          out.aggregates.push(...t.aggregates);
          out.events.push(...t.events);
        }
        this.lastTick = tickAt;
      }
      if ('tick' in record) continue;
      if (this.newest === null || record.receivedAt > this.newest) this.newest = record.receivedAt;
      const ahead = record.time - record.receivedAt;
      const { maxAheadMs } = this.options;
      if (maxAheadMs !== undefined && ahead > maxAheadMs) {
        out.rejected.push({
          record,
          code: 'TIME_AHEAD',
          reason: `event time ${record.time} is ${ahead} ms ahead of the gateway's receive time ${record.receivedAt}, more than stream.maxAheadMs (${maxAheadMs} ms): a device clock fault`,
        });
        continue;
      }
      this.sites.observe(record.deviceId, record.site);
      const r = this.core.process(record);
      if (r.duplicate) {
        out.duplicates += 1;
        continue;
      }
      out.readings.push(record);
      if (r.tooLate) {
        out.tooLate.push({ record, tooLate: r.tooLate });
        continue;
      }
      out.aggregates.push(...r.aggregates);
      out.events.push(...r.events);
    }
    return out;
  }

  /** `lazy`: devices and series made as encodeJson writes them (JsonSequence). */
  snapshot(lazy = false): ProcessorState {
    return {
      v: 1,
      lastTick: this.lastTick,
      newest: this.newest,
      core: this.core.snapshot(lazy),
      sites: this.sites.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = checkState(StateSchema, state, 'partition processor');
    this.lastTick = s.lastTick;
    this.newest = s.newest ?? s.lastTick;
    this.core.restore(s.core);
    this.sites.restore(s.sites);
  }
}
