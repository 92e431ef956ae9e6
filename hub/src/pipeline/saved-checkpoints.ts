import { gunzipSync, gzip } from 'node:zlib';
import type { Checkpoint } from '../ports.ts';

/** A kept checkpoint: its JSON until gzip (on libuv's threads) gives the compressed bytes. */
interface Saved {
  offset: string;
  json: string | undefined;
  gzip: Buffer | undefined;
}

/**
 * Each partition's newest checkpoint, kept as the JSON the store writes, gzipped (fastest
 * level): as objects it would double what the hub holds per series, as JSON text add half
 * (test/bench/hub-state.ts); it is read only to reopen a partition or to rewrite its pending
 * notifications. The gzip runs off the pipeline's thread (it was ~1% of the hub's busy time
 * under load); until it is done the JSON itself is kept.
 */
export class SavedCheckpoints {
  private saved = new Map<number, Saved>();
  /** Per partition, the last offset a checkpoint the store acknowledged covers. */
  private stored = new Map<number, string>();

  clear(): void {
    this.saved.clear();
    this.stored.clear();
  }

  keep(partition: number, offset: string, json: string): void {
    const saved: Saved = { offset, json, gzip: undefined };
    this.saved.set(partition, saved);
    gzip(json, { level: 1 }, (err, compressed) => {
      if (err) return; // (not seen: then the JSON stays)
      saved.gzip = compressed;
      saved.json = undefined;
    });
  }

  get(partition: number): Checkpoint | undefined {
    const saved = this.saved.get(partition);
    if (saved === undefined) return undefined;
    const json = saved.json ?? gunzipSync(saved.gzip as Buffer).toString();
    return JSON.parse(json) as Checkpoint;
  }

  /** The last offset the partition's newest checkpoint covers; '-1' for none. */
  offset(partition: number): string {
    return this.saved.get(partition)?.offset ?? '-1';
  }

  /** The store acknowledged a checkpoint of the partition covering `offset` (or loaded it). */
  acknowledged(partition: number, offset: string): void {
    const was = this.stored.get(partition);
    if (was === undefined || BigInt(offset) > BigInt(was)) this.stored.set(partition, offset);
  }

  /**
   * The last offset a checkpoint in the store covers ('-1': none), which may lag the newest
   * one while its write is under way or after it failed: only this may be committed.
   */
  durable(partition: number): string {
    return this.stored.get(partition) ?? '-1';
  }
}
