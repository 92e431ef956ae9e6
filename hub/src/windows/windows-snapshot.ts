import { type Static, Type } from '@sinclair/typebox';
import { sequence } from '../state/json-sequence.ts';
import { checkState } from '../state/state.ts';
import { FinalWindows } from './final-windows.ts';
import { checkPacked, PackedIdsSchema } from './packed-ids.ts';
import { RecentIds } from './recent-ids.ts';
import { type WindowState, windowKey } from './window-state.ts';
import type { WindowCounters } from './windows-types.ts';

/** What the window engine keeps per device. */
export interface DeviceWindows {
  /** Greatest event time seen (the watermark is this minus the out-of-orderness). */
  maxTime: number | null;
  /** Newest receivedAt seen (gateway clock), for closing the windows of silent devices. */
  lastArrival: number | null;
  ids: RecentIds;
  /** Open windows, by `${metric}|${windowMs}|${start}`. */
  windows: Map<string, WindowState>;
  /** Final windows still open to corrections by late readings (packed). */
  finals: FinalWindows;
  /** windowMs -> windows starting before this were evicted; readings for them are skipped. */
  sealed: Map<number, number>;
  /** Watermark at which some window must be finalised or forgotten (derived, not saved). */
  nextDeadline: number;
  /**
   * metric -> per window size (index into the sorted sizes), the window last used: found
   * without building its key. Only windows still in `windows` (cleared when any is dropped);
   * derived, not saved.
   */
  hot: Map<string, (WindowState | undefined)[]>;
}

const WindowStateSchema = Type.Object({
  metric: Type.String(),
  unit: Type.Optional(Type.String()),
  windowMs: Type.Integer({ minimum: 1 }),
  start: Type.Number(),
  count: Type.Integer({ minimum: 1 }),
  mean: Type.Number(),
  m2: Type.Number({ minimum: 0 }),
  min: Type.Number(),
  max: Type.Number(),
  last: Type.Number(),
  lastTime: Type.Number(),
  lastTie: Type.Number(),
  final: Type.Boolean(),
  revision: Type.Integer({ minimum: 0 }),
});

const Count = Type.Integer({ minimum: 0 });

export const WindowsSnapshotSchema = Type.Object({
  v: Type.Literal(1),
  counters: Type.Object({
    records: Count,
    duplicates: Count,
    late: Count,
    tooLate: Count,
    corrections: Count,
    finalised: Count,
    evictedDevices: Count,
    evictedWindows: Count,
    sealedSkips: Count,
  }),
  /** Least recently active device first, as the eviction order requires. */
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      maxTime: Type.Union([Type.Number(), Type.Null()]),
      lastArrival: Type.Union([Type.Number(), Type.Null()]),
      /** The ids as strings: empty since 2026-12-05, when `packedIds` came. */
      ids: Type.Array(Type.String()),
      /** The ids as numbers (RecentIds.snapshotPacked); absent before 2026-12-05. */
      packedIds: Type.Optional(PackedIdsSchema),
      /** The ids' record times (RecentIds.snapshotTimes); absent before 2026-12-05. */
      idTimes: Type.Optional(
        Type.Object({ from: Type.Number(), seconds: Type.Array(Type.Integer()) }),
      ),
      sealed: Type.Array(Type.Tuple([Type.Integer({ minimum: 1 }), Type.Number()])),
      windows: Type.Array(WindowStateSchema),
    }),
  ),
});

/** JSON-serialisable state of a TumblingWindows engine. */
export type WindowsSnapshot = Static<typeof WindowsSnapshotSchema>;

export function snapshotWindows(
  devices: ReadonlyMap<string, DeviceWindows>,
  counters: WindowCounters,
): WindowsSnapshot;
/** `lazy`: the devices in a JsonSequence, made as the snapshot is encoded (encodeJson). */
export function snapshotWindows(
  devices: ReadonlyMap<string, DeviceWindows>,
  counters: WindowCounters,
  lazy: boolean,
): unknown;
export function snapshotWindows(
  devices: ReadonlyMap<string, DeviceWindows>,
  counters: WindowCounters,
  lazy = false,
): unknown {
  return { v: 1, counters: { ...counters }, devices: sequence(devices, deviceSnapshot, lazy) };
}

function deviceSnapshot([id, d]: [string, DeviceWindows]): WindowsSnapshot['devices'][number] {
  const idTimes = d.ids.snapshotTimes();
  return {
    id,
    maxTime: d.maxTime,
    lastArrival: d.lastArrival,
    ids: [],
    packedIds: d.ids.snapshotPacked(),
    ...(idTimes ? { idTimes } : {}),
    sealed: [...d.sealed],
    windows: [
      ...[...d.windows.values()].map((w) => ({ ...w })),
      ...Array.from({ length: d.finals.size }, (_, i) => d.finals.get(i)),
    ],
  };
}

/**
 * Rebuilds the engine's state. Windows of a size the engine is no longer configured for are
 * dropped; everything else continues exactly where the snapshot was taken.
 */
export function restoreWindows(
  snapshot: unknown,
  sizes: ReadonlySet<number>,
  idCapacity: number,
  deadline: (w: WindowState) => number,
): { devices: Map<string, DeviceWindows>; counters: WindowCounters } {
  const s = checkState(WindowsSnapshotSchema, snapshot, 'window engine');
  const devices = new Map<string, DeviceWindows>();
  for (const d of s.devices) {
    const windows = new Map<string, WindowState>();
    const finals = new FinalWindows();
    let nextDeadline = Number.POSITIVE_INFINITY;
    for (const w of d.windows) {
      if (!sizes.has(w.windowMs)) continue;
      if (w.final) finals.add(w);
      else windows.set(windowKey(w.metric, w.windowMs, w.start), { ...w });
      nextDeadline = Math.min(nextDeadline, deadline(w));
    }
    devices.set(d.id, {
      maxTime: d.maxTime,
      lastArrival: d.lastArrival,
      ids: RecentIds.restore(
        idCapacity,
        d.packedIds ? checkPacked(d.packedIds, `/devices/${d.id}/packedIds`) : d.ids,
        d.idTimes,
        d.maxTime ?? undefined,
      ),
      windows,
      finals,
      sealed: new Map(d.sealed),
      nextDeadline,
      hot: new Map(),
    });
  }
  return { devices, counters: { ...s.counters } };
}
