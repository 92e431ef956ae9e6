import type { ReadingRecord } from '@iot-stream/contracts';
import { FinalWindows } from './final-windows.ts';
import { RecentIds } from './recent-ids.ts';
import { classifyLateness, watermarkOf } from './watermark.ts';
import {
  type Aggregate,
  addValue,
  alignStart,
  newWindow,
  toAggregate,
  type WindowState,
  windowKey,
} from './window-state.ts';
import {
  type DeviceWindows,
  restoreWindows,
  snapshotWindows,
  type WindowsSnapshot,
} from './windows-snapshot.ts';
import {
  type AddResult,
  byWindow,
  emptyWindowCounters,
  resolveOptions,
  type TumblingWindowsOptions,
  type WindowCounters,
} from './windows-types.ts';

/**
 * Tumbling aggregates per device, metric and window size, in event time, with per-device
 * watermarks, allowed lateness and duplicate detection. Pure and deterministic: the same
 * records in the same order give the same outputs and the same snapshot.
 */
export class TumblingWindows {
  counters: WindowCounters = emptyWindowCounters();
  private devices = new Map<string, DeviceWindows>();
  private readonly sizes: number[];
  private readonly ooo: number;
  private readonly lateness: number;
  private readonly maxDevices: number;
  private readonly maxWindows: number;
  private readonly dedup: number;
  /** Set by windowFor: the index among the device's final windows of the one it returned, or -1. */
  private finalAt = -1;

  constructor(options: TumblingWindowsOptions) {
    ({
      sizes: this.sizes,
      ooo: this.ooo,
      lateness: this.lateness,
      maxDevices: this.maxDevices,
      maxWindows: this.maxWindows,
      dedup: this.dedup,
    } = resolveOptions(options));
  }

  add(record: ReadingRecord): AddResult {
    this.counters.records += 1;
    const out: Aggregate[] = [];
    const device = this.device(record.deviceId, out);
    // Ids of records too late for the windows now need not be held: a repeat is too late too.
    device.ids.forgetBefore(watermarkOf(device.maxTime, this.ooo) - this.lateness);
    if (device.ids.seenOrAddRecord(record)) {
      this.counters.duplicates += 1;
      return { duplicate: true, late: false, aggregates: out };
    }
    const wm = watermarkOf(device.maxTime, this.ooo);
    const lateness = classifyLateness(record.time, wm, this.lateness);
    if (lateness === 'too-late') {
      this.counters.tooLate += 1;
      const lateByMs = wm - record.time;
      const reason = `event time ${record.time} is ${lateByMs} ms behind the watermark ${wm}, more than the allowed lateness of ${this.lateness} ms`;
      return {
        duplicate: false,
        late: true,
        tooLate: { code: 'TOO_LATE', reason, watermark: wm, lateByMs },
        aggregates: out,
      };
    }
    if (lateness === 'late') this.counters.late += 1;
    const metrics = record.metrics;
    // for-in, not Object.keys: no array per record (the same order: own keys, as inserted).
    for (const metric in metrics) {
      if (!Object.hasOwn(metrics, metric)) continue;
      const m = metrics[metric] as (typeof metrics)[string];
      for (let i = 0; i < this.sizes.length; i += 1) {
        const w = this.windowFor(record.deviceId, device, metric, i, record.time, out);
        if (w === undefined) continue;
        const finalAt = this.finalAt; // where w came from among the final windows, or -1
        addValue(w, m.value, m.unit, record.time, record.gatewaySeq);
        if (w.final) {
          w.revision += 1;
          this.counters.corrections += 1;
          out.push(toAggregate(record.deviceId, w, true));
        } else if (w.start + w.windowMs <= wm) {
          w.final = true; // a late reading opened a window the watermark already passed
          this.counters.finalised += 1;
          out.push(toAggregate(record.deviceId, w, true));
        }
        if (finalAt >= 0) device.finals.set(finalAt, w);
        else if (w.final) this.keepFinal(device, w);
        device.nextDeadline = Math.min(device.nextDeadline, this.deadline(w));
      }
    }
    if (device.maxTime === null || record.time > device.maxTime) device.maxTime = record.time;
    device.lastArrival = Math.max(device.lastArrival ?? record.receivedAt, record.receivedAt);
    this.settle(record.deviceId, device, out);
    return { duplicate: false, late: lateness === 'late', aggregates: out };
  }

  /**
   * Closes the windows of devices that fell silent: for each device whose newest record
   * arrived (receivedAt) idleMs or more before `now`, its event time is taken to have moved on
   * by the time elapsed since, measured on the gateway clock, so a device clock offset does not
   * matter. `now` comes from the caller; for a replayable result take it from the records
   * (e.g. the newest receivedAt of the partition), not from the wall clock.
   */
  closeIdle(now: number, idleMs: number): Aggregate[] {
    const out: Aggregate[] = [];
    for (const [id, device] of this.devices) {
      if (device.maxTime === null || device.lastArrival === null) continue;
      const elapsed = now - device.lastArrival;
      if (elapsed < idleMs) continue;
      device.maxTime += elapsed;
      device.lastArrival = now;
      this.settle(id, device, out);
    }
    return out;
  }

  /**
   * Advances the watermark of one device (or all) to at least `watermark` and returns the
   * windows that became final (end of a backtest or replay). Readings older than the new
   * watermark minus the allowed lateness are too late afterwards.
   */
  closeUpTo(watermark: number, deviceId?: string): Aggregate[] {
    const out: Aggregate[] = [];
    for (const [id, device] of this.devices) {
      if (deviceId !== undefined && id !== deviceId) continue;
      const maxTime = watermark + this.ooo;
      if (device.maxTime === null || device.maxTime < maxTime) device.maxTime = maxTime;
      this.settle(id, device, out);
    }
    return out;
  }

  /** Windows not final yet, as they stand (final: false), for dashboards of the current hour. */
  openAggregates(deviceId?: string): Aggregate[] {
    const out: Aggregate[] = [];
    for (const [id, device] of this.devices) {
      if (deviceId !== undefined && id !== deviceId) continue;
      for (const w of device.windows.values()) if (!w.final) out.push(toAggregate(id, w, false));
    }
    return out;
  }

  /** The device's watermark, or null when it is not tracked. */
  watermark(deviceId: string): number | null {
    const d = this.devices.get(deviceId);
    return d === undefined || d.maxTime === null ? null : d.maxTime - this.ooo;
  }

  snapshot(): WindowsSnapshot;
  /** `lazy`: for encodeJson, which makes each device's part as it writes it. */
  snapshot(lazy: boolean): unknown;
  snapshot(lazy = false): unknown {
    return snapshotWindows(this.devices, this.counters, lazy);
  }

  restore(snapshot: unknown): void {
    const restored = restoreWindows(snapshot, new Set(this.sizes), this.dedup * 2, (w) =>
      this.deadline(w),
    );
    this.devices = restored.devices;
    this.counters = restored.counters;
  }

  private device(id: string, out: Aggregate[]): DeviceWindows {
    const found = this.devices.get(id);
    if (found) {
      this.devices.delete(id); // re-insert: Map order is least recently active first
      this.devices.set(id, found);
      return found;
    }
    if (this.devices.size >= this.maxDevices) {
      const [oldId, old] = this.devices.entries().next().value as [string, DeviceWindows];
      for (const w of old.windows.values()) if (!w.final) out.push(this.finalise(oldId, w));
      this.devices.delete(oldId);
      this.counters.evictedDevices += 1;
    }
    const created: DeviceWindows = {
      maxTime: null,
      lastArrival: null,
      ids: new RecentIds(this.dedup * 2),
      windows: new Map(),
      finals: new FinalWindows(),
      sealed: new Map(),
      nextDeadline: Number.POSITIVE_INFINITY,
      hot: new Map(),
    };
    this.devices.set(id, created);
    return created;
  }

  private windowFor(
    deviceId: string,
    device: DeviceWindows,
    metric: string,
    sizeIndex: number,
    time: number,
    out: Aggregate[],
  ): WindowState | undefined {
    this.finalAt = -1;
    const size = this.sizes[sizeIndex] as number;
    const start = alignStart(time, size);
    const cached = device.hot.get(metric)?.[sizeIndex];
    if (cached !== undefined && cached.start === start) return cached;
    const key = windowKey(metric, size, start);
    let w = device.windows.get(key);
    if (!w) {
      const final = device.finals.find(metric, size, start);
      if (final >= 0) {
        this.finalAt = final; // a correction: the caller writes it back
        return device.finals.get(final);
      }
      if (start < (device.sealed.get(size) ?? Number.NEGATIVE_INFINITY)) {
        this.counters.sealedSkips += 1;
        return undefined;
      }
      if (device.windows.size + device.finals.size >= this.maxWindows)
        this.evictOldestWindow(deviceId, device, out);
      w = newWindow(metric, size, start);
      device.windows.set(key, w);
    }
    let hot = device.hot.get(metric); // after any eviction above, which clears the cache
    if (!hot) {
      hot = [];
      device.hot.set(metric, hot);
    }
    hot[sizeIndex] = w;
    return w;
  }

  /** Drops the window that ends first (the open ones first at a tie), finalising an open one. */
  private evictOldestWindow(deviceId: string, device: DeviceWindows, out: Aggregate[]): void {
    let oldestKey: string | undefined;
    let oldest: WindowState | undefined;
    for (const [key, w] of device.windows) {
      if (!oldest || w.start + w.windowMs < oldest.start + oldest.windowMs) {
        oldestKey = key;
        oldest = w;
      }
    }
    let oldestFinal = -1;
    const { finals } = device;
    for (let i = 0; i < finals.size; i += 1) {
      const end = finals.end(i);
      if (!oldest || end < oldest.start + oldest.windowMs) {
        if (oldestFinal < 0 || end < finals.end(oldestFinal)) oldestFinal = i;
      }
    }
    if (oldestFinal >= 0) oldest = finals.get(oldestFinal);
    if (!oldest) return;
    if (oldestFinal >= 0) finals.remove(oldestFinal);
    else {
      if (!oldest.final) out.push(this.finalise(deviceId, oldest));
      device.windows.delete(oldestKey as string);
      device.hot.clear();
    }
    const until = oldest.start + oldest.windowMs;
    device.sealed.set(oldest.windowMs, Math.max(device.sealed.get(oldest.windowMs) ?? 0, until));
    this.counters.evictedWindows += 1;
  }

  /** Finalises windows the watermark passed and forgets those past the allowed lateness. */
  private settle(deviceId: string, device: DeviceWindows, out: Aggregate[]): void {
    const wm = watermarkOf(device.maxTime, this.ooo);
    if (wm < device.nextDeadline) return;
    const closed: Aggregate[] = [];
    let next = Number.POSITIVE_INFINITY;
    const { finals } = device;
    for (let i = 0; i < finals.size; ) {
      const end = finals.end(i);
      if (end + this.lateness <= wm) finals.remove(i);
      else {
        next = Math.min(next, end + this.lateness);
        i += 1;
      }
    }
    for (const [key, w] of device.windows) {
      const end = w.start + w.windowMs;
      if (!w.final && end <= wm) closed.push(this.finalise(deviceId, w));
      if (end + this.lateness <= wm || w.final) {
        device.windows.delete(key);
        device.hot.clear();
        if (end + this.lateness > wm) {
          finals.add(w); // kept, packed, for corrections until the lateness passes it
          next = Math.min(next, this.deadline(w));
        }
      } else next = Math.min(next, this.deadline(w));
    }
    device.nextDeadline = next;
    closed.sort(byWindow);
    out.push(...closed);
  }

  /** Moves a window just made final from the open ones to the packed final ones. */
  private keepFinal(device: DeviceWindows, w: WindowState): void {
    device.windows.delete(windowKey(w.metric, w.windowMs, w.start));
    device.hot.clear();
    device.finals.add(w);
  }

  private finalise(deviceId: string, w: WindowState): Aggregate {
    w.final = true;
    this.counters.finalised += 1;
    return toAggregate(deviceId, w, true);
  }

  /** The watermark at which this window next needs attention: closing, then forgetting. */
  private deadline(w: WindowState): number {
    return w.start + w.windowMs + (w.final ? this.lateness : 0);
  }
}
