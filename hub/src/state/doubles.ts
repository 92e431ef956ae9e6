/**
 * n zeros in a plain array of unboxed doubles (V8's double elements), for the small buffers a
 * series keeps: a Float64Array of up to a few KB costs ~200 B of heap and ~400 B of malloc
 * beside its data (its ArrayBuffer's backing store), an array of doubles ~30 B. The 0.5 makes
 * the elements doubles from the start (a first fraction stored later would copy them).
 */
export function doubles(n: number): number[] {
  return new Array<number>(n).fill(0.5).fill(0);
}
