// The arrays of a device's dedup-id ring (recent-ids.ts), made at each growth of the ring.

export interface RingShape {
  /** Slots in the ring. */
  size: number;
  /** Numbers held as they are (64 bits), not as 32-bit offsets. */
  wide: boolean;
  /** Prefix indexes and index slots in 16 bits (capacity up to 65,535 ids). */
  narrow: boolean;
  /** With a time per slot (slot-times.ts). */
  times: boolean;
  /** With a middle number per slot (empty otherwise). */
  middles: boolean;
}

/** The linear-probing index's slots: a power of two, at least twice the ring, 16 at least. */
function indexSizeFor(size: number): number {
  let n = 16;
  while (n < size * 2) n *= 2;
  return n;
}

/**
 * All of a ring's arrays as views of one ArrayBuffer, widest first (each view aligned): a
 * device's ring grows some ten times, and each ArrayBuffer costs ~600 B beside its bytes.
 */
export function ringArrays(shape: RingShape) {
  const { size, wide, narrow } = shape;
  const indexSize = indexSizeFor(size);
  const small = narrow ? 2 : 4;
  const buffer = new ArrayBuffer(
    size * (wide ? 8 : 4) +
      (shape.times ? size * 4 : 0) +
      (size + indexSize) * small +
      (shape.middles ? size * 2 : 0),
  );
  let offset = 0;
  const carve = <T extends { byteLength: number }>(view: T): T => {
    offset += view.byteLength;
    return view;
  };
  const numbers = carve(
    wide ? new Float64Array(buffer, 0, size) : new Uint32Array(buffer, 0, size),
  );
  const seconds = shape.times ? carve(new Int32Array(buffer, offset, size)) : undefined;
  const prefixOf = carve(
    narrow ? new Uint16Array(buffer, offset, size) : new Uint32Array(buffer, offset, size),
  );
  const index = carve(
    narrow ? new Uint16Array(buffer, offset, indexSize) : new Int32Array(buffer, offset, indexSize),
  );
  const middles = new Uint16Array(buffer, offset, shape.middles ? size : 0);
  return { numbers, seconds, prefixOf, index, middles };
}
