import type { ReadingRecord } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import type { EpisodeEvent } from '../detect/engine-types.ts';
import { SiteMap, type SiteRule, SitesStateSchema } from '../sites.ts';
import { StreamCore, type StreamCoreOptions } from './core.ts';
import { checkState } from './state.ts';
import type { Aggregate } from './window-state.ts';
import type { TooLate } from './windows-types.ts';

export interface PartitionProcessorOptions {
  core: StreamCoreOptions;
  /** The core is ticked at every multiple of this crossed by the partition's receivedAt. */
  tickIntervalMs: number;
  /** Hub-side site rules (config `sites`). */
  sites?: readonly SiteRule[];
}

/** A tick control record: the partition's time moved on to `tick` (epoch ms) without readings. */
export interface PartitionTick {
  tick: number;
}

/** What a run of records produced, in a deterministic order. */
export interface PartitionOutput {
  /** Records to write as raw readings (duplicates and too-late ones excluded). */
  readings: ReadingRecord[];
  aggregates: Aggregate[];
  events: EpisodeEvent[];
  tooLate: { record: ReadingRecord; tooLate: TooLate }[];
  duplicates: number;
  /** The site tag of a device, as of the end of this run. */
  siteOf: (deviceId: string) => string;
}

const StateSchema = Type.Object({
  v: Type.Literal(1),
  lastTick: Type.Union([Type.Number(), Type.Null()]),
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
  private readonly sites: SiteMap;

  constructor(private readonly options: PartitionProcessorOptions) {
    this.core = new StreamCore({ ...options.core, scores: false }); // only events are used
    this.sites = new SiteMap(options.sites);
  }

  get counters() {
    return { windows: this.core.windows.counters, detection: this.core.detection.counters };
  }

  /** Readings, and ticks (control records of a quiet partition) in their log order. */
  process(records: readonly (ReadingRecord | PartitionTick)[]): PartitionOutput {
    const out: PartitionOutput = {
      readings: [],
      aggregates: [],
      events: [],
      tooLate: [],
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
      this.sites.observe(record.deviceId, record.site);
      const r = this.core.process(record);
      if (r.duplicate) {
        out.duplicates += 1;
        continue;
      }
      if (r.tooLate) {
        out.tooLate.push({ record, tooLate: r.tooLate });
        continue;
      }
      out.readings.push(record);
      out.aggregates.push(...r.aggregates);
      out.events.push(...r.events);
    }
    return out;
  }

  snapshot(): ProcessorState {
    return {
      v: 1,
      lastTick: this.lastTick,
      core: this.core.snapshot(),
      sites: this.sites.snapshot(),
    };
  }

  restore(state: unknown): void {
    const s = checkState(StateSchema, state, 'partition processor');
    this.lastTick = s.lastTick;
    this.core.restore(s.core);
    this.sites.restore(s.sites);
  }
}
