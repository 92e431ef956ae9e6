import type { ReadingRecord } from '@iot-stream/contracts';

/**
 * A bounded set of recently seen ids, forgetting the oldest first (FIFO). Used per device to
 * recognise a record that arrives twice. Insertion order is the only order, so eviction is
 * deterministic and the snapshot (oldest first) restores the same set.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    while (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }

  snapshot(): string[] {
    return [...this.ids];
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
