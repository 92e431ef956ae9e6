import {
  type Consumer,
  consumerFetchesChannel,
  consumerReceivesChannel,
  type FetchOptions,
  type fetchV17,
} from '@platformatic/kafka';

type FetchResponse = fetchV17.FetchResponse;

type FetchRequestTopic = FetchOptions<unknown, unknown, unknown, unknown>['topics'][number];

/** Where one partition's share of a fetch started, and the partition's ends at the time. */
export interface PartitionFetch {
  fetchedFrom: bigint;
  highWatermark: bigint;
  /** The oldest offset the partition held (its log start offset). */
  logStart: bigint;
}

/** One fetch request of the consumer: the source's generation when it was issued. */
export interface FetchTag {
  generation: number;
  partitions: Map<number, PartitionFetch>;
}

interface FetchContext {
  client?: unknown;
  options?: { topics?: FetchRequestTopic[] };
  result?: FetchResponse;
}

/**
 * Tags every message a @platformatic/kafka consumer's stream delivers with the fetch that
 * brought it: the offset the fetch asked for (a batch's `fetchedFrom`), the partition's high
 * watermark and log start offset in its response, and the source's generation when the fetch was *issued*. The
 * messages themselves carry none of it; the library publishes each fetch and each received
 * message on its diagnostics channels (tracing: `start` when a fetch is sent, `asyncStart`
 * just before its records are pushed, message by message, and `asyncEnd` after), which is
 * where this reads them. A fetch issued before a rebalance and answered after it is thereby
 * known as stale, though the library stamps its messages with the new generation.
 */
export class FetchTags {
  private readonly tags = new WeakMap<object, FetchTag>();
  private readonly issued = new WeakMap<object, number>();
  /** The fetch whose records are being pushed (between its asyncStart and asyncEnd). */
  private current: FetchTag | undefined;
  private readonly subscribers = {
    fetch: {
      start: (ctx: FetchContext) => {
        if (ctx.client === this.consumer) this.issued.set(ctx, this.generation());
      },
      asyncStart: (ctx: FetchContext) => {
        if (ctx.client !== this.consumer) return;
        this.onFetch();
        this.current = this.tagOf(ctx);
      },
      asyncEnd: (ctx: FetchContext) => {
        if (ctx.client === this.consumer) this.current = undefined;
      },
    },
    receive: {
      asyncStart: (ctx: { client?: unknown; result?: unknown }) => {
        if (ctx.client === this.consumer && this.current && typeof ctx.result === 'object')
          this.tags.set(ctx.result as object, this.current);
      },
    },
  };

  constructor(
    private readonly consumer: Consumer,
    /** The source's generation now (bumped by every rebalance). */
    private readonly generation: () => number,
    /** Every answered fetch, with or without records. */
    private readonly onFetch: () => void,
  ) {
    consumerFetchesChannel.subscribe(this.subscribers.fetch as never);
    consumerReceivesChannel.subscribe(this.subscribers.receive as never);
  }

  /** The fetch a delivered message came with (undefined: not seen being fetched). */
  of(message: object): FetchTag | undefined {
    return this.tags.get(message);
  }

  close(): void {
    consumerFetchesChannel.unsubscribe(this.subscribers.fetch as never);
    consumerReceivesChannel.unsubscribe(this.subscribers.receive as never);
  }

  private tagOf(ctx: FetchContext): FetchTag | undefined {
    const generation = this.issued.get(ctx);
    if (generation === undefined || !ctx.result) return undefined;
    const partitions = new Map<number, PartitionFetch>();
    const answers = new Map<string, fetchV17.FetchResponsePartition>();
    for (const t of ctx.result.responses)
      for (const p of t.partitions) answers.set(`${t.topicId}:${p.partitionIndex}`, p);
    for (const t of ctx.options?.topics ?? [])
      for (const p of t.partitions) {
        const answer = answers.get(`${t.topicId}:${p.partition}`);
        partitions.set(p.partition, {
          fetchedFrom: p.fetchOffset,
          highWatermark: answer?.highWatermark ?? p.fetchOffset,
          logStart: answer?.logStartOffset ?? 0n,
        });
      }
    return { generation, partitions };
  }
}
