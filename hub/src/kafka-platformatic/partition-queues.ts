import type { Message } from '@platformatic/kafka';
import type { SourceBatch } from '../ports.ts';
import type { PartitionFetch } from './fetch-tags.ts';

export type Fetched = Message<Buffer, Buffer, Buffer, Buffer>;

/** Consecutive records of one partition from one fetch. */
interface Segment {
  fetch: PartitionFetch;
  messages: Fetched[];
  bytes: number;
}

/** What the queues need of the consumer's stream. */
export interface QueuesStream {
  /** The stream's next fetch of partition p starts at `offset`. */
  position(p: number, offset: bigint): void;
  pause(): void;
  /** Resumes the stream if it is paused. */
  resume(): void;
}

/**
 * The records the @platformatic/kafka stream delivered, waiting per partition for the pipeline
 * (reading-source.ts): taken only in sequence from each partition's position, cut into batches
 * of up to `maxBatchBytes`, the stream paused while `maxQueued` bytes wait. A record that does
 * not follow on (a fetch from a position set before a rebalance or a gap, still buffered or
 * answered late) is dropped and the position set to the next record again.
 */
export class PartitionQueues {
  private queues = new Map<number, Segment[]>();
  private bytes = 0;
  /** Per partition, in this generation: the last offset queued. */
  private queuedTo = new Map<number, bigint>();
  /** Partitions whose records stopped following on: fetches dropped since, and the last. */
  private rewinding = new Map<number, { again: number; last?: PartitionFetch }>();

  constructor(
    private readonly stream: QueuesStream,
    private readonly maxQueued: number,
    private readonly maxBatchBytes: number,
  ) {}

  /** Partition p is read from `offset` on (a start position, a gap): what waits is dropped. */
  seek(p: number, offset: bigint): void {
    this.dequeued((this.queues.get(p) ?? []).reduce((n, s) => n + s.bytes, 0));
    this.queues.delete(p);
    this.queuedTo.set(p, offset - 1n);
    this.stream.position(p, offset);
  }

  /** Queues a record its fetch brought; false when it is not queued (see the class comment). */
  receive(m: Fetched, fetch: PartitionFetch): boolean {
    const p = m.partition;
    const to = this.queuedTo.get(p); // set for every assigned partition by a seek
    if (to === undefined || m.offset <= to) return false; // not ours, or queued already
    // A fetch from the log start, which is past the next record: the stream's answer to an
    // out-of-range position (retention deleted the records between). Taken at once: the
    // pipeline decides (continuity.ts).
    const gone = fetch.logStart > to + 1n && fetch.fetchedFrom <= fetch.logStart;
    if (m.offset > to + 1n && !gone) {
      // Not the next record: from a fetch sent before the position was set (a rebalance, a
      // gap). Fetched again from the next one; counted per fetch, and after 20 the records are
      // taken as gone and the pipeline decides.
      const rewind = this.rewinding.get(p) ?? { again: 0 };
      if (rewind.again < 20 || rewind.last === fetch) {
        if (rewind.last !== fetch) rewind.again += 1;
        rewind.last = fetch;
        this.rewinding.set(p, rewind);
        this.stream.position(p, to + 1n);
        return false;
      }
    }
    this.rewinding.delete(p);
    this.queuedTo.set(p, m.offset);
    const queue = this.queues.get(p) ?? [];
    this.queues.set(p, queue);
    const last = queue.at(-1);
    const bytes = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
    if (last && last.fetch === fetch) {
      last.messages.push(m);
      last.bytes += bytes;
    } else queue.push({ fetch, messages: [m], bytes });
    this.bytes += bytes;
    if (this.bytes >= this.maxQueued) this.stream.pause();
    return true;
  }

  /** Whether records of partition p wait. */
  waiting(p: number): boolean {
    return (this.queues.get(p)?.length ?? 0) > 0;
  }

  /** The next batch of partition p: contiguous segments, up to maxBatchBytes. */
  take(p: number): { messages: Fetched[]; head: SourceBatchHead } | undefined {
    const queue = this.queues.get(p);
    const first = queue?.[0];
    if (!queue || !first) return undefined;
    const messages: Fetched[] = [];
    let bytes = 0;
    let fetch = first.fetch;
    while (queue.length > 0) {
      const s = queue[0] as Segment;
      const lastOffset = messages.at(-1)?.offset;
      // A later fetch that started beyond the records before it: a batch of its own.
      if (lastOffset !== undefined && s.fetch.fetchedFrom > lastOffset + 1n) break;
      if (messages.length > 0 && bytes + s.bytes > this.maxBatchBytes) break;
      queue.shift();
      for (const m of s.messages) messages.push(m);
      bytes += s.bytes;
      fetch = s.fetch;
    }
    this.dequeued(bytes);
    const last = messages.at(-1) as Fetched;
    return {
      messages,
      head: {
        partition: p,
        lastOffset: String(last.offset),
        highWatermark: String(fetch.highWatermark),
        fetchedFrom: String(first.fetch.fetchedFrom),
      },
    };
  }

  /** A new generation: nothing waits, no position is known. */
  clear(): void {
    this.queues.clear();
    this.queuedTo.clear();
    this.rewinding.clear();
    this.dequeued(this.bytes);
  }

  private dequeued(bytes: number): void {
    this.bytes -= bytes;
    if (this.bytes < this.maxQueued / 2) this.stream.resume();
  }
}

type SourceBatchHead = Pick<
  SourceBatch,
  'partition' | 'lastOffset' | 'highWatermark' | 'fetchedFrom'
>;
