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

/**
 * Each partition's newest checkpoint, kept as the JSON the store writes, compressed
 * (compressCheckpoint): as objects it would double what the hub holds per series, as JSON text
 * add half (test/bench/hub-state.ts); it is read only to reopen a partition or to rewrite its
 * pending notifications. Compressed synchronously, on purpose: zlib's asynchronous gzip holds
 * the JSON until it finishes, over many event-loop turns; tried twice (add9b02, 02999fe), it
 * tripled what a hub with 100k series held (test/bench/hub-state.ts: 23.5 against 8.2 KB a
 * series) for a gain within the noise.
 */
export class SavedCheckpoints {
  private saved = new Map<number, { offset: string; packed: Buffer }>();
  /** Per partition, the last offset a checkpoint the store acknowledged covers. */
  private stored = new Map<number, string>();

  clear(): void {
    this.saved.clear();
    this.stored.clear();
  }

  keep(partition: number, offset: string, json: string | Buffer): void {
    this.saved.set(partition, { offset, packed: compressCheckpoint(json) });
  }

  get(partition: number): Checkpoint | undefined {
    const saved = this.saved.get(partition);
    return saved && (JSON.parse(brotliDecompressSync(saved.packed).toString()) as Checkpoint);
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
