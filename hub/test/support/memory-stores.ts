import { IotError, type ReadingRecord } from '@iot-stream/contracts';
import type { BatchOutput, Checkpoint, CheckpointStore } from '../../src/ports.ts';
import { aggregatePoints, episodePoints, readingPoints } from '../../src/store/points.ts';

/** Checkpoints kept as JSON text, as a real store would serialise them. */
export class MemoryCheckpoints implements CheckpointStore {
  readonly data = new Map<number, string>();
  saves = 0;
  /** Loads asked for (each a list of partitions). */
  loads = 0;
  /** Saves to refuse next (a store that is down). */
  failNext = 0;
  async save(p: number, json: Buffer) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('checkpoint store down');
    }
    this.saves += 1;
    this.data.set(p, json.toString());
  }
  async load(ps: readonly number[]) {
    this.loads += 1;
    const m = new Map<number, Checkpoint>();
    for (const p of ps) {
      const c = this.data.get(p);
      if (c) m.set(p, JSON.parse(c));
    }
    return m;
  }
}

/** InfluxDB semantics: one point per (measurement, tags, time); later writes overwrite fields. */
export class MemoryInflux {
  readonly points = new Map<string, Record<string, unknown>>();
  failNext = 0;
  /** Readings this store refuses for their content (as InfluxDB answers 400), whole batch. */
  refuse: ((r: ReadingRecord) => boolean) | undefined;
  writes = 0;
  async writeBatch(b: BatchOutput) {
    this.writes += 1;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('influx down');
    }
    const refused = this.refuse && b.readings.find(this.refuse);
    if (refused)
      throw new IotError('INFLUX_WRITE_REJECTED', `unable to parse ${refused.deviceId}`, {
        retriable: false,
      });
    for (const p of [
      ...readingPoints(b.readings),
      ...aggregatePoints(b.aggregates),
      ...episodePoints(b.events),
    ]) {
      const key = `${p.measurement}|${JSON.stringify(p.tags)}|${p.timestamp}`;
      this.points.set(key, { ...this.points.get(key), ...p.fields });
    }
  }
  sorted() {
    return [...this.points.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  }
}
