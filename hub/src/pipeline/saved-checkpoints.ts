import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Checkpoint } from '../ports.ts';

/**
 * A checkpoint's JSON as the hub keeps it: Brotli at quality 1. On a partition's checkpoint of
 * 4,200 series (27 MB of JSON) it made 1.45 MB in 24 ms where gzip's fastest level made 2.07 MB
 * in 55 ms (and level 3, 1.61 MB in 54 ms); it is read back only to reopen a partition.
 */
export function compressCheckpoint(json: string | Buffer): Buffer {
  return brotliCompressSync(json, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 1,
      [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(json),
    },
  });
}

/** A partition's newest checkpoint as kept (`packed` gone once the store has it, unless held). */
export interface SavedEntry {
  offset: string;
  packed?: Buffer;
  seq: number;
  hold: boolean;
}

/**
 * Each partition's newest checkpoint, kept as the JSON the store writes, compressed
 * (compressCheckpoint): as objects it would double what the hub holds per series, as JSON text
 * add half (test/bench/hub-state.ts); it is read only to reopen a partition or to rewrite its
 * pending notifications. Kept only while needed: until the store acknowledged it, and while it
 * holds pending notifications (the outbox rewrites it); otherwise the store has the same, and
 * a partition reopened later in the assignment loads it from there (`has` without `get`):
 * ~1 KB a series less at 100k series. Compressed synchronously, on purpose: zlib's asynchronous gzip holds
 * the JSON until it finishes, over many event-loop turns; tried twice (add9b02, 02999fe), it
 * tripled what a hub with 100k series held (test/bench/hub-state.ts: 23.5 against 8.2 KB a
 * series) for a gain within the noise.
 */
export class SavedCheckpoints {
  private saved = new Map<number, SavedEntry>();
  private seq = 0;
  /** Per partition, the last offset a checkpoint the store acknowledged covers. */
  private stored = new Map<number, string>();

  clear(): void {
    this.saved.clear();
    this.stored.clear();
  }

  /**
   * The partition's newest checkpoint; returns its number for `acknowledged`. `hold`: kept
   * after the store acknowledged it too (it has pending notifications, or it was loaded).
   */
  keep(partition: number, offset: string, json: string | Buffer, hold: boolean): number {
    this.seq += 1;
    this.saved.set(partition, {
      offset,
      packed: compressCheckpoint(json),
      seq: this.seq,
      hold,
    });
    return this.seq;
  }

  /**
   * The partition's newest entry as it is, for `putBack`: a rewrite whose store failed must not
   * stay the newest (it marked a notification as being sent that was not).
   */
  entry(partition: number): SavedEntry | undefined {
    return this.saved.get(partition);
  }

  /** Puts back `entry` (from `entry`) if checkpoint `seq` is still the newest. */
  putBack(partition: number, seq: number, entry: SavedEntry | undefined): void {
    if (this.saved.get(partition)?.seq !== seq) return;
    if (entry) this.saved.set(partition, entry);
    else this.saved.delete(partition);
  }

  /** The newest checkpoint, when it is still held (see `has`). */
  get(partition: number): Checkpoint | undefined {
    const packed = this.saved.get(partition)?.packed;
    return packed && (JSON.parse(brotliDecompressSync(packed).toString()) as Checkpoint);
  }

  /** Whether a checkpoint of the partition was kept or loaded in this assignment (held or not). */
  has(partition: number): boolean {
    return this.saved.has(partition);
  }

  /** The last offset the partition's newest checkpoint covers; '-1' for none. */
  offset(partition: number): string {
    return this.saved.get(partition)?.offset ?? '-1';
  }

  /**
   * The store acknowledged a checkpoint of the partition covering `offset` (or loaded it);
   * `seq` (from `keep`): that one, whose copy goes unless it is held or a newer one was kept.
   */
  acknowledged(partition: number, offset: string, seq?: number): void {
    const was = this.stored.get(partition);
    if (was === undefined || BigInt(offset) > BigInt(was)) this.stored.set(partition, offset);
    const saved = this.saved.get(partition);
    if (saved && seq !== undefined && saved.seq === seq && !saved.hold) saved.packed = undefined;
  }

  /**
   * The last offset a checkpoint in the store covers ('-1': none), which may lag the newest
   * one while its write is under way or after it failed: only this may be committed.
   */
  durable(partition: number): string {
    return this.stored.get(partition) ?? '-1';
  }
}
