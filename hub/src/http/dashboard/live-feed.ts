/**
 * In-process publish/subscribe of server-sent events for the dashboard. Each event is
 * serialised once; each client gets it written to its socket. A client whose socket does not
 * keep up gets its frames queued, up to `maxQueued`; past that it is dropped (disconnected and
 * counted), so one slow browser never holds memory or slows the pipeline. EventSource
 * reconnects by itself and the page reloads its state from the REST API when it does.
 */

/** Where a client's frames go: in the hub, an HTTP response. */
export interface FeedClient {
  /** Writes a frame; false when the socket's buffer is full (wait for `onDrain`). */
  write(frame: string): boolean;
  /** Called once, the next time the socket's buffer has room again. */
  onDrain(listener: () => void): void;
  /** Disconnects the client at once (a dropped or shut-down stream). */
  close(): void;
}

export interface SubscribeOptions {
  /**
   * Topics (device ids) whose topical events this client wants; events without a topic go to
   * every client. Empty: none.
   */
  topics?: ReadonlySet<string>;
}

export interface PublishOptions {
  /** Only clients subscribed to this topic get the event. */
  topic?: string;
  /** Kept and sent to each new client at once (the latest health snapshot). */
  sticky?: boolean;
}

export interface LiveFeedOptions {
  /** Frames queued for a client whose socket is full before it is dropped. */
  maxQueued?: number;
  /** A comment line this often keeps proxies and idle connections open; 0 = none. */
  heartbeatMs?: number;
}

export interface LiveFeedCounters {
  /** Clients connected now. */
  clients: number;
  /** Events published (each once, however many clients). */
  published: number;
  /** Clients dropped for not keeping up. */
  dropped: number;
}

interface Subscriber {
  client: FeedClient;
  topics: ReadonlySet<string>;
  /** Frames waiting for the socket to drain; undefined while the socket takes writes. */
  queue: string[] | undefined;
}

const NO_TOPICS: ReadonlySet<string> = new Set();

/** One SSE frame: `event:` and a single `data:` line (JSON has no raw newlines). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class LiveFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly sticky = new Map<string, string>();
  private readonly maxQueued: number;
  private readonly heartbeatMs: number;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private stats = { published: 0, dropped: 0 };

  constructor(options: LiveFeedOptions = {}) {
    this.maxQueued = options.maxQueued ?? 256;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  get counters(): LiveFeedCounters {
    return { clients: this.subscribers.size, ...this.stats };
  }

  /** Whether anyone listens: publishers skip the work of building events otherwise. */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  /** Adds a client; sends it the sticky events. Returns the unsubscribe function. */
  subscribe(client: FeedClient, options: SubscribeOptions = {}): () => void {
    const sub: Subscriber = { client, topics: options.topics ?? NO_TOPICS, queue: undefined };
    this.subscribers.add(sub);
    for (const frame of this.sticky.values()) this.send(sub, frame);
    if (this.heartbeatMs > 0 && !this.heartbeat) {
      this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), this.heartbeatMs);
      this.heartbeat.unref?.();
    }
    return () => this.remove(sub);
  }

  publish(event: string, data: unknown, options: PublishOptions = {}): void {
    const frame = sseFrame(event, data);
    if (options.sticky) this.sticky.set(event, frame);
    this.stats.published += 1;
    this.broadcast(frame, options.topic);
  }

  /** Forgets a sticky event (its data went stale). */
  clearSticky(event: string): void {
    this.sticky.delete(event);
  }

  /** Disconnects every client (the server is closing). */
  disconnectAll(): void {
    for (const sub of [...this.subscribers]) {
      this.remove(sub);
      sub.client.close();
    }
  }

  private broadcast(frame: string, topic?: string): void {
    for (const sub of [...this.subscribers])
      if (topic === undefined || sub.topics.has(topic)) this.send(sub, frame);
  }

  private send(sub: Subscriber, frame: string): void {
    if (!sub.queue) {
      if (!this.write(sub, frame)) this.wait(sub);
    } else if (sub.queue.length < this.maxQueued) sub.queue.push(frame);
    else this.drop(sub);
  }

  /** False when the socket is full; a socket that throws is gone and dropped. */
  private write(sub: Subscriber, frame: string): boolean {
    try {
      return sub.client.write(frame);
    } catch {
      this.drop(sub);
      return true;
    }
  }

  private wait(sub: Subscriber, queue: string[] = []): void {
    if (!this.subscribers.has(sub)) return;
    sub.queue = queue;
    sub.client.onDrain(() => this.flush(sub));
  }

  private flush(sub: Subscriber): void {
    if (!this.subscribers.has(sub)) return;
    const queued = sub.queue ?? [];
    sub.queue = undefined;
    while (queued.length > 0 && this.subscribers.has(sub)) {
      if (!this.write(sub, queued.shift() as string)) {
        this.wait(sub, queued);
        return;
      }
    }
  }

  private drop(sub: Subscriber): void {
    this.stats.dropped += 1;
    this.remove(sub);
    sub.client.close();
  }

  private remove(sub: Subscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }
}
