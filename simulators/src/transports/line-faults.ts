// What a noisy serial line does to the bytes of a frame. Pure: the random stream is passed in.
import type { Random } from '../random.ts';

export interface LineFaultOptions {
  /** Probability that random bytes (noise, a glitch) reach the line before a frame. */
  garbage?: number;
  /** Probability that one bit of a frame flips on the way. */
  corrupt?: number;
  /** Probability that a frame never arrives. */
  drop?: number;
}

export interface LineFaultCounters {
  garbageBursts: number;
  garbageBytes: number;
  corruptedFrames: number;
  droppedFrames: number;
}

export function newLineFaultCounters(): LineFaultCounters {
  return { garbageBursts: 0, garbageBytes: 0, corruptedFrames: 0, droppedFrames: 0 };
}

export function hasLineFaults(o: LineFaultOptions): boolean {
  return (o.garbage ?? 0) > 0 || (o.corrupt ?? 0) > 0 || (o.drop ?? 0) > 0;
}

/**
 * The chunks that reach the line for one framed write (COBS bytes and the 0x00 delimiter).
 * Garbage is 1..24 random bytes of any value: without a 0x00 at its end it glues onto the frame
 * that follows, which the receiver then rejects and the sender retransmits [FP-2.3].
 */
export function applyLineFaults(
  wire: Uint8Array,
  o: LineFaultOptions,
  random: Random,
  c: LineFaultCounters,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  if ((o.garbage ?? 0) > 0 && random() < (o.garbage ?? 0)) {
    const n = 1 + Math.floor(random() * 24);
    const junk = new Uint8Array(n);
    for (let i = 0; i < n; i += 1) junk[i] = Math.floor(random() * 256);
    c.garbageBursts += 1;
    c.garbageBytes += n;
    out.push(junk);
  }
  if ((o.drop ?? 0) > 0 && random() < (o.drop ?? 0)) {
    c.droppedFrames += 1;
    return out;
  }
  if ((o.corrupt ?? 0) > 0 && wire.length > 1 && random() < (o.corrupt ?? 0)) {
    const bytes = wire.slice();
    const at = Math.floor(random() * (bytes.length - 1));
    bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(random() * 8));
    c.corruptedFrames += 1;
    out.push(bytes);
    return out;
  }
  out.push(wire);
  return out;
}
