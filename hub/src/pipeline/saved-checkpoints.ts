import { gunzipSync, gzipSync } from 'node:zlib';
import type { Checkpoint } from '../ports.ts';

/**
 * Each partition's newest checkpoint, kept as the JSON the store writes, gzipped (fastest
 * level): as objects it would double what the hub holds per series, as JSON text add half
 * (test/bench/hub-state.ts); it is read only to reopen a partition or to rewrite its pending
 * notifications.
 */
export class SavedCheckpoints {
  private saved = new Map<number, { offset: string; gzip: Buffer }>();

  clear(): void {
    this.saved.clear();
  }

  keep(partition: number, offset: string, json: string): void {
    this.saved.set(partition, { offset, gzip: gzipSync(json, { level: 1 }) });
  }

  get(partition: number): Checkpoint | undefined {
    const saved = this.saved.get(partition);
    return saved && (JSON.parse(gunzipSync(saved.gzip).toString()) as Checkpoint);
  }

  /** The last offset the partition's newest checkpoint covers; '-1' for none. */
  offset(partition: number): string {
    return this.saved.get(partition)?.offset ?? '-1';
  }
}
