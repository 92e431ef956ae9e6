import { type Static, Type } from '@sinclair/typebox';
import { StateError } from '../state/errors.ts';

// The checkpoint form of RecentIds' ids (recent-ids.ts) since 2026-12-05: numbers, no strings.

/**
 * Ids as parallel arrays, one entry an id, oldest first: its prefix as an index into
 * `prefixes`, its number as the difference from the one before of the same prefix (small: a
 * gateway's seqs, a device's times), its middle number (absent when no id has one). About
 * half the JSON of the ids as strings, and no string made an id.
 */
export const PackedIdsSchema = Type.Object({
  prefixes: Type.Array(Type.String()),
  prefix: Type.Array(Type.Integer({ minimum: 0 })),
  delta: Type.Array(Type.Integer()),
  middle: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 65_535 }))),
});
export type PackedIds = Static<typeof PackedIdsSchema>;

/** Packed ids whose arrays agree (the schema checks each alone), else STATE_INVALID. */
export function checkPacked(p: PackedIds, where: string): PackedIds {
  const n = p.prefix.length;
  if (
    p.delta.length !== n ||
    (p.middle !== undefined && p.middle.length !== n) ||
    p.prefix.some((k) => k >= p.prefixes.length)
  )
    throw new StateError('window engine', `${where}: arrays do not agree`);
  return p;
}

export function isPacked(ids: readonly string[] | PackedIds): ids is PackedIds {
  return !Array.isArray(ids);
}

/** Builds PackedIds from ids' parts given oldest first (RecentIds' own prefix indexes). */
export class IdPacker {
  private readonly packed: PackedIds;
  /** RecentIds' prefix index -> packed index. */
  private readonly indexOf = new Map<number, number>();
  private readonly last: number[] = [];

  constructor(withMiddles: boolean) {
    this.packed = { prefixes: [], prefix: [], delta: [], ...(withMiddles ? { middle: [] } : {}) };
  }

  /** The id of prefix `prefixes[own]`, middle and number (no closure: one call per id held). */
  add(own: number, prefixes: readonly string[], middle: number, n: number): void {
    let k = this.indexOf.get(own);
    if (k === undefined) {
      k = this.packed.prefixes.length;
      this.indexOf.set(own, k);
      this.packed.prefixes.push(prefixes[own] as string);
      this.last.push(0);
    }
    this.packed.prefix.push(k);
    this.packed.delta.push(n - (this.last[k] as number));
    this.last[k] = n;
    this.packed.middle?.push(middle);
  }

  result(): PackedIds {
    return this.packed;
  }
}

/** Each packed id's parts, oldest first. */
export function unpackIds(
  packed: PackedIds,
  each: (prefix: string, middle: number, n: number, i: number) => void,
): void {
  const last = packed.prefixes.map(() => 0);
  packed.prefix.forEach((k, i) => {
    const n = (last[k] as number) + (packed.delta[i] as number);
    last[k] = n;
    each(packed.prefixes[k] as string, packed.middle?.[i] ?? 0, n, i);
  });
}
