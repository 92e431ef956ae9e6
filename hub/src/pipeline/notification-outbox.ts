import type { Logger } from 'pino';
import type { Notification } from '../notify/notifications.ts';
import type { Notifier } from '../notify/webhook.ts';
import type { Checkpoint } from '../ports.ts';
import type { NotificationCounters } from './counters.ts';

/** A partition's pending notifications as the pipeline holds them (its open partition). */
export interface PendingHolder {
  pending: Notification[];
}

/** What the outbox needs of the pipeline: its partitions and their checkpoints. */
export interface NotificationHost {
  /** The partition's holder now, if the pipeline has it open. */
  holder(partition: number): PendingHolder | undefined;
  /** The partition's newest checkpoint (enqueued), if any. */
  saved(partition: number): Checkpoint | undefined;
  /** Enqueues a checkpoint rewrite (after the ones already enqueued). */
  save(partition: number, checkpoint: Checkpoint): Promise<void>;
}

export interface NotificationOutboxOptions {
  /** Webhook; undefined: notifications are not sent. */
  notifier?: Notifier | undefined;
  /** Send again what a crashed hub had begun sending (may repeat a message; default: not). */
  resendAttempted?: boolean;
  log: Logger;
  host: NotificationHost;
}

/** Keys of delivered notifications remembered, newest first out. */
const DELIVERED_KEPT = 10_000;

/**
 * Sends checkpointed notifications, one at a time per partition and at most once across
 * crashes: before each, the checkpoint is rewritten with it marked `attempted`; after it, the
 * checkpoint is rewritten without it. A hub that finds an `attempted` one in a checkpoint it
 * opens does not send it again (it is logged as possibly undelivered), so a crash never repeats
 * a message; what a crash can cost is the one message in flight per partition (see
 * hub/docs/architecture.md). Rebalances lose nothing: the hub that began sending goes on. One
 * at a time also keeps the order and suits webhooks that rate-limit (Slack: 1/s).
 */
export class NotificationOutbox {
  readonly counters: NotificationCounters = {
    notifications: 0,
    notificationFailures: 0,
    notificationsUncertain: 0,
  };
  /**
   * Keys being delivered by this process: queued or in flight, removed once delivered (then
   * `delivered` has them), so bounded by what is queued.
   */
  private sent = new Set<string>();
  /** Per partition: the chain of notifications being delivered, one at a time. */
  private delivering = new Map<number, Promise<void>>();
  /** Keys of notifications delivered (or given up) by this process: the newest 10,000. */
  private delivered = new Set<string>();

  constructor(private readonly options: NotificationOutboxOptions) {}

  get enabled(): boolean {
    return this.options.notifier !== undefined;
  }

  /** Notifications queued or being sent now (bounded by the queue; see `sent`). */
  get inFlight(): number {
    return this.sent.size;
  }

  isDelivered(key: string): boolean {
    return this.delivered.has(key);
  }

  /** Starts delivering the holder's pending notifications not queued yet. */
  deliver(partition: number, holder: PendingHolder): void {
    const notifier = this.options.notifier;
    if (!notifier) return;
    const fresh = holder.pending.filter((n) => !this.sent.has(n.key) && !this.delivered.has(n.key));
    if (fresh.length === 0) return;
    for (const n of fresh) this.sent.add(n.key);
    let queue = this.delivering.get(partition) ?? Promise.resolve();
    for (const n of fresh)
      queue = queue.then(() => this.deliverOne(notifier, partition, holder, n));
    this.delivering.set(partition, queue);
  }

  /**
   * Pending notifications of a checkpoint being opened: those another run began sending are
   * not sent again (unless `resendAttempted`), but logged and counted as possibly undelivered.
   */
  unsent(partition: number, pending: readonly Notification[]): Notification[] {
    const out: Notification[] = [];
    for (const n of pending) {
      if (this.delivered.has(n.key)) continue;
      if (n.attempted && !this.sent.has(n.key) && !this.options.resendAttempted) {
        this.counters.notificationsUncertain += 1;
        this.remember(n.key);
        this.options.log.warn(
          { partition, key: n.key, text: n.text },
          'notification possibly undelivered: a hub stopped while sending it; not sent again',
        );
        continue;
      }
      out.push(n);
    }
    return out;
  }

  private async deliverOne(
    notifier: Notifier,
    partition: number,
    holder: PendingHolder,
    n: Notification,
  ): Promise<void> {
    const { host, log } = this.options;
    const saved = host.saved(partition);
    if (!saved) {
      this.sent.delete(n.key); // the partition moved (rebalance): its next owner sends it
      return;
    }
    // Marked in memory first, so no later checkpoint of this partition can drop the mark.
    const mark = (list: Notification[]) =>
      list.map((p) => (p.key === n.key ? { ...p, attempted: true } : p));
    const current = host.holder(partition) ?? holder;
    current.pending = mark(current.pending);
    try {
      await host.save(partition, { ...saved, pending: mark(saved.pending ?? []) });
    } catch (err) {
      // Not marked durably, so not sent: the next checkpoint carries it and delivery retries.
      this.sent.delete(n.key);
      current.pending = current.pending.map((p) =>
        p.key === n.key ? { ...p, attempted: false } : p,
      );
      log.warn({ err, partition }, 'checkpoint before a notification failed');
      return;
    }
    const ok = await notifier.notify({ key: n.key, text: n.text }).then(
      () => true,
      () => false,
    );
    if (ok) this.counters.notifications += 1;
    else this.counters.notificationFailures += 1;
    this.remember(n.key);
    this.sent.delete(n.key); // `delivered` remembers it from here on
    const now = host.holder(partition) ?? holder;
    now.pending = now.pending.filter((p) => p.key !== n.key);
    const latest = host.saved(partition);
    if (!latest?.pending?.some((p) => p.key === n.key)) return;
    await host
      .save(partition, {
        ...latest,
        pending: latest.pending.filter((p) => !this.delivered.has(p.key)),
      })
      .catch((err: unknown) =>
        log.warn({ err, partition }, 'checkpoint after a notification failed'),
      );
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > DELIVERED_KEPT)
      this.delivered.delete(this.delivered.values().next().value as string);
  }
}
