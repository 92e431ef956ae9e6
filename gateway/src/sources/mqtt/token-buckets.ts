export interface TokenBucketOptions {
  /** Tokens added per minute to each key's bucket. */
  perMinute: number;
  /** Tokens a bucket holds at most (and starts with). */
  burst: number;
  /** Keys remembered at most; beyond that the least recently used is forgotten. */
  maxKeys?: number;
}

/**
 * One token bucket per key (a remote address), with the clock passed in. Memory is bounded by
 * `maxKeys`: a forgotten key starts again with a full bucket, so many addresses can take at
 * most `burst` each, which is why what they can take must also be capped elsewhere.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private readonly maxKeys: number;

  constructor(private readonly options: TokenBucketOptions) {
    this.perMs = options.perMinute / 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for `key` at time `now` (ms); false when its bucket is empty. */
  take(key: string, now: number): boolean {
    const { burst } = this.options;
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: the Map's order is the recency order
      // A clock that went back adds nothing.
      bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
      bucket.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: burst, at: now };
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
