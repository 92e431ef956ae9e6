import type { ReadingRecord } from '@iot-stream/contracts';

/**
 * A bounded set of recently seen ids, forgetting the oldest first (FIFO). Used per device to
 * recognise a record that arrives twice. Insertion order is the only order, so eviction is
 * deterministic and the snapshot (oldest first) restores the same set.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  /** The same ids in insertion order, as a ring (the oldest at `head`): no iterator per eviction. */
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    const size = this.ids.size;
    this.ids.add(id); // one hash lookup instead of has() + add()
    if (this.ids.size === size) return; // already there
    if (this.capacity < 1) {
      this.ids.delete(id);
      return;
    }
    if (this.order.length < this.capacity) {
      this.order.push(id);
      return;
    }
    // Full: the new id takes the oldest one's place in the ring.
    this.ids.delete(this.order[this.head] as string);
    this.order[this.head] = id;
    this.head = (this.head + 1) % this.capacity;
  }

  get size(): number {
    return this.ids.size;
  }

  snapshot(): string[] {
    return this.head === 0
      ? [...this.order]
      : [...this.order.slice(this.head), ...this.order.slice(0, this.head)];
  }

  static restore(capacity: number, ids: readonly string[]): RecentIds {
    const set = new RecentIds(capacity);
    for (const id of ids) set.add(id);
    return set;
  }
}

/**
 * The ids a duplicate shares with its original: (gatewayId, gatewaySeq), and the device's own
 * (session, seq) when it sends one. Without a session the event time is part of the id, so a
 * device that reboots and restarts its seq at 0 is not mistaken for a duplicate.
 */
export function recordIds(r: ReadingRecord): string[] {
  const ids = [`g:${r.gatewayId}:${r.gatewaySeq}`];
  if (r.seq !== undefined) {
    ids.push(r.session !== undefined ? `s:${r.session}:${r.seq}` : `t:${r.seq}:${r.time}`);
  }
  return ids;
}
