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
  /**
   * Rewrites the partition's newest checkpoint with `edit` after the checkpoints already
   * queued; true once stored, false when nothing was (no checkpoint: it went in a rebalance;
   * or `edit` gave undefined). `undo` runs when the store fails, before the next checkpoint.
   */
  rewrite(
    partition: number,
    edit: (latest: Checkpoint) => Checkpoint | undefined,
    undo?: () => void,
  ): Promise<boolean>;
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
 * checkpoint is rewritten without it (by the next one's mark when one is queued: `settle`).
 * Every rewrite waits its turn with the checkpoints (partition-checkpoints.ts). A hub that finds an `attempted` one in a checkpoint it
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
  /** Per partition: notifications queued or being sent (for the rewrites they share). */
  private queued = new Map<number, number>();
  /**
   * Partitions whose newest checkpoint may still hold a delivered notification, marked: its
   * own rewrite was left to the next one's mark, not stored yet (see `settle`).
   */
  private owed = new Set<number>();

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
    this.queued.set(partition, (this.queued.get(partition) ?? 0) + fresh.length);
    let queue = this.delivering.get(partition) ?? Promise.resolve();
    for (const n of fresh)
      queue = queue
        .then(() => this.deliverOne(notifier, partition, holder, n))
        .finally(() => {
          const left = (this.queued.get(partition) ?? 1) - 1;
          if (left > 0) this.queued.set(partition, left);
          else this.queued.delete(partition);
        });
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
    const mark = (list: Notification[], attempted: boolean) =>
      list.map((p) => (p.key === n.key ? { ...p, attempted } : p));
    const marking = (attempted: boolean) => {
      const current = host.holder(partition) ?? holder;
      current.pending = mark(current.pending, attempted);
    };
    try {
      // Marked in memory in the rewrite's turn, before it is stored: every checkpoint made
      // after it carries the mark. Undone if the store fails (before any later checkpoint).
      // Only while the newest checkpoint still holds it, not begun: it may have moved to
      // another hub and back meanwhile, and been sent (and dropped) or begun there.
      const marked = await host.rewrite(
        partition,
        (saved) => {
          const there = saved.pending?.find((p) => p.key === n.key);
          if (!there || (there.attempted && !this.options.resendAttempted)) return undefined;
          marking(true);
          // (Without those delivered meanwhile: the one before leaves that to this rewrite.)
          const left = (saved.pending ?? []).filter((p) => !this.delivered.has(p.key));
          return { ...saved, pending: mark(left, true) };
        },
        () => marking(false),
      );
      if (!marked) {
        // The partition moved (a rebalance; if back here, its checkpoint says what is left).
        this.sent.delete(n.key);
        log.info(
          { partition, key: n.key },
          "notification not sent by this hub: the partition's newest checkpoint no longer holds it, or another hub began sending it",
        );
        return await this.settle(partition);
      }
      this.owed.delete(partition); // (the mark dropped those delivered before)
    } catch (err) {
      // Not marked durably, so not sent: the next checkpoint carries it and delivery retries.
      this.sent.delete(n.key);
      log.warn({ err, partition }, 'checkpoint before a notification failed');
      return await this.settle(partition);
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
    this.owed.add(partition);
    await this.settle(partition);
  }

  /**
   * The checkpoint rewritten without the notifications delivered, by the last of the
   * partition's queue: one queued behind rewrites it anyway (its mark drops them), one rewrite
   * less per notification in a burst (each is the partition's whole state); if that mark is
   * not stored after all, it settles instead. Until then a crash leaves the delivered one
   * marked: the next owner logs it as possibly undelivered.
   */
  private async settle(partition: number): Promise<void> {
    if (!this.owed.has(partition) || (this.queued.get(partition) ?? 1) > 1) return;
    this.owed.delete(partition);
    const delivered = (p: Notification) => this.delivered.has(p.key);
    await this.options.host
      .rewrite(partition, (latest) =>
        latest.pending?.some(delivered)
          ? { ...latest, pending: latest.pending.filter((p) => !delivered(p)) }
          : undefined,
      )
      .catch((err: unknown) =>
        this.options.log.warn({ err, partition }, 'checkpoint after a notification failed'),
      );
  }

  private remember(key: string): void {
    this.delivered.add(key);
    if (this.delivered.size > DELIVERED_KEPT)
      this.delivered.delete(this.delivered.values().next().value as string);
  }
}
