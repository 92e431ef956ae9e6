/**
 * Batches handed to the pipeline and not finished yet (kafka-source.ts): the kafkajs consumer
 * fetches again only once every batch of its last fetch returned, so a batch whose InfluxDB
 * write is still out runs on here while the next fetch goes out and its batches are processed.
 * A partition's batches still run one after the other (`admit` waits for its previous one: a
 * retried batch holds the partition back as before), and all of them together hold at most
 * `maxBytes` of fetched records (one batch always goes), so memory stays bounded by the fetch
 * sizes whatever the number of partitions.
 */
export class BatchesInFlight {
  private readonly tails = new Map<number, Promise<void>>();
  private readonly running = new Set<Promise<void>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Resolves once `partition`'s previous batch is done and there is room for `bytes` more;
   * calls `whileWaiting` every `everyMs` meanwhile (kafkajs: the group heartbeat, whose error
   * rejects this).
   */
  async admit(
    partition: number,
    bytes: number,
    whileWaiting?: () => Promise<void>,
    everyMs = 1000,
  ): Promise<void> {
    for (;;) {
      const waitFor = this.tails.get(partition) ?? this.blocking(bytes);
      if (waitFor === undefined) return;
      let timer: NodeJS.Timeout | undefined;
      const ticked = await Promise.race([
        waitFor.then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), everyMs);
        }),
      ]);
      clearTimeout(timer);
      if (ticked) await whileWaiting?.();
    }
  }

  /** What to wait for before `bytes` more fit (one batch always fits): undefined when they do. */
  private blocking(bytes: number): Promise<void> | undefined {
    if (this.running.size === 0 || this.bytes + bytes <= this.maxBytes) return undefined;
    return Promise.race(this.running);
  }

  /** Runs `work` as `partition`'s batch of `bytes` (after `admit`); never rejects. */
  start(partition: number, bytes: number, work: () => Promise<void>): void {
    this.bytes += bytes;
    const done: Promise<void> = work()
      .catch(() => undefined)
      .finally(() => {
        this.bytes -= bytes;
        this.running.delete(done);
        if (this.tails.get(partition) === done) this.tails.delete(partition);
      });
    this.running.add(done);
    this.tails.set(partition, done);
  }

  /** Resolves once every batch started so far is done. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}
