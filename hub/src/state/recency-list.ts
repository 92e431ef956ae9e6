/** An item of a RecencyList: its neighbours (set by the list only). */
export interface Linked<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * The least-recently-used order of bounded state (detector series): an intrusive doubly linked
 * list, so moving an item to the newest end costs no hashing or allocation. Iteration runs
 * from the oldest; eviction takes the oldest.
 */
export class RecencyList<T extends Linked<T>> {
  oldest: T | undefined;
  newest: T | undefined;
  size = 0;

  /** Adds an item (not in the list) as the newest. */
  push(item: T): void {
    item.older = this.newest;
    item.newer = undefined;
    if (this.newest) this.newest.newer = item;
    else this.oldest = item;
    this.newest = item;
    this.size += 1;
  }

  /** Moves an item of the list to the newest end. */
  touch(item: T): void {
    if (item === this.newest) return;
    this.remove(item);
    this.push(item);
  }

  remove(item: T): void {
    if (item.older) item.older.newer = item.newer;
    else this.oldest = item.newer;
    if (item.newer) item.newer.older = item.older;
    else this.newest = item.older;
    item.older = undefined;
    item.newer = undefined;
    this.size -= 1;
  }

  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
    this.size = 0;
  }

  /** Oldest first. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let item = this.oldest; item !== undefined; item = item.newer) yield item;
  }
}
