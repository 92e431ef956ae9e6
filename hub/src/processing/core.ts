import type { ReadingRecord } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { DetectionEngine, type DetectionSnapshot } from '../detect/engine.ts';
import type { DetectionOutput } from '../detect/engine-types.ts';
import type { Rule } from '../detect/rules.ts';
import { checkState } from '../state/state.ts';
import type { Aggregate } from '../windows/window-state.ts';
import { TumblingWindows } from '../windows/windows.ts';
import type { WindowsSnapshot } from '../windows/windows-snapshot.ts';
import type { AddResult, TumblingWindowsOptions } from '../windows/windows-types.ts';

export interface StreamCoreOptions {
  windows: TumblingWindowsOptions;
  rules: readonly Rule[];
  /** Cap on detector series (rule x device x metric); default 100,000. */
  maxSeries?: number;
  /** tick() closes the windows of devices silent (by receivedAt) this long; default never. */
  idleCloseMs?: number;
  /** Per-reading scores in the outputs (default true); see DetectionEngineOptions.scores. */
  scores?: boolean;
}

/** What a tick produced: heartbeat scores, episode events, windows of silent devices. */
export interface TickOutput extends DetectionOutput {
  aggregates: Aggregate[];
}

/** Everything one record produced: what to (re)write, dead-letter and notify. */
export interface CoreOutput extends AddResult, DetectionOutput {}

const CoreSnapshotSchema = Type.Object({
  v: Type.Literal(1),
  windows: Type.Unknown(),
  detection: Type.Unknown(),
});
export type CoreSnapshot = Static<typeof CoreSnapshotSchema> & {
  windows: WindowsSnapshot;
  detection: DetectionSnapshot;
};

/**
 * The hub's stream-processing core, I/O-free: window aggregates and anomaly detection for the
 * records of one partition, in the order Kafka delivers them. Duplicates are dropped before
 * both; too-late readings are not aggregated and not scored. Checkpoint `snapshot()` together
 * with the Kafka offsets it covers; after `restore()` the same records give the same outputs.
 */
export class StreamCore {
  readonly windows: TumblingWindows;
  readonly detection: DetectionEngine;
  private readonly idleCloseMs: number | undefined;

  constructor(options: StreamCoreOptions) {
    this.idleCloseMs = options.idleCloseMs;
    this.windows = new TumblingWindows(options.windows);
    this.detection = new DetectionEngine({
      rules: options.rules,
      maxSeries: options.maxSeries,
      scores: options.scores,
    });
  }

  process(record: ReadingRecord): CoreOutput {
    const added = this.windows.add(record) as CoreOutput;
    if (added.duplicate || added.tooLate) {
      added.scores = [];
      added.events = [];
      return added;
    }
    const detected = this.detection.process(record);
    added.scores = detected.scores;
    added.events = detected.events;
    return added;
  }

  /**
   * Time passes: heartbeats, quiet periods, windows of silent devices. `now` comes from the
   * caller; for replayable output derive it from the records (the partition's newest
   * receivedAt), not from the wall clock. See DetectionEngine.tick, TumblingWindows.closeIdle.
   */
  tick(now: number): TickOutput {
    const aggregates =
      this.idleCloseMs === undefined ? [] : this.windows.closeIdle(now, this.idleCloseMs);
    return { ...this.detection.tick(now), aggregates };
  }

  /** Closes windows of silent devices; see TumblingWindows.closeUpTo. */
  closeUpTo(watermark: number, deviceId?: string): Aggregate[] {
    return this.windows.closeUpTo(watermark, deviceId);
  }

  snapshot(): CoreSnapshot;
  /** `lazy`: devices and series made as encodeJson writes them (JsonSequence). */
  snapshot(lazy: boolean): unknown;
  snapshot(lazy = false): unknown {
    return { v: 1, windows: this.windows.snapshot(lazy), detection: this.detection.snapshot(lazy) };
  }

  restore(snapshot: unknown): void {
    const s = checkState(CoreSnapshotSchema, snapshot, 'stream core');
    this.windows.restore(s.windows);
    this.detection.restore(s.detection);
  }
}
