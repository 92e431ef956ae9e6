// The sender side of [FP-6.3]: frames sent with ACK_REQUEST are kept until an ack covers them,
// and sent again (flag RETRANSMIT, same session, seq and payload) after a timeout that starts
// at 250 ms and doubles up to 4 s, or at once when a later seq was acknowledged selectively.
// Pure: the time is passed in.
import type { Frame } from '@iot-stream/firmware-protocol';

export interface RetransmitOptions {
  initialMs?: number;
  maxMs?: number;
  /** Frames kept at most; when full the oldest is dropped [FP-6.3]. */
  maxKept?: number;
  /** A selective-ack gap retransmits a frame only if it was sent at least this long ago. */
  fastGapMs?: number;
}

export interface KeptFrame {
  frame: Frame;
  sentAt: number;
  timeoutMs: number;
  /** Retransmissions so far. */
  attempts: number;
  onSettled?: ((ok: boolean) => void) | undefined;
}

/** [FP-5.5]: a kept frame is acknowledged by `cumulative` and up to 32767 before it, or a bit. */
export function covers(cumulative: number, selective: number, seq: number): boolean {
  if (((cumulative - seq) & 0xffff) <= 32767) return true;
  const bit = (seq - cumulative - 1) & 0xffff;
  return bit < 32 && ((selective >>> bit) & 1) === 1;
}

/** The highest seq a selective bitmap acknowledges, or undefined without bits. */
function highestSelective(cumulative: number, selective: number): number | undefined {
  if (selective === 0) return undefined;
  return (cumulative + 1 + (31 - Math.clz32(selective >>> 0))) & 0xffff;
}

export class RetransmitQueue {
  private kept: KeptFrame[] = [];
  readonly initialMs: number;
  readonly maxMs: number;
  readonly maxKept: number;
  readonly fastGapMs: number;

  constructor(options: RetransmitOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 4000;
    this.maxKept = Math.max(1, options.maxKept ?? 64);
    this.fastGapMs = options.fastGapMs ?? 100;
  }

  get size(): number {
    return this.kept.length;
  }

  /** Seq of the oldest frame still waiting for its ack. */
  get oldestSeq(): number | undefined {
    return this.kept[0]?.frame.seq;
  }

  /** Keeps a frame just sent; returns the oldest frame if it had to be dropped to make room. */
  keep(frame: Frame, now: number, onSettled?: (ok: boolean) => void): KeptFrame | undefined {
    let dropped: KeptFrame | undefined;
    if (this.kept.length >= this.maxKept) dropped = this.kept.shift();
    this.kept.push({ frame, sentAt: now, timeoutMs: this.initialMs, attempts: 0, onSettled });
    dropped?.onSettled?.(false);
    return dropped;
  }

  /**
   * Applies an ack of this session: settles the frames it covers, and returns those to send
   * again now because a later seq was acknowledged selectively while they were not.
   */
  onAck(
    cumulative: number,
    selective: number,
    now: number,
  ): { acknowledged: number; retransmit: KeptFrame[] } {
    const covered: KeptFrame[] = [];
    this.kept = this.kept.filter((k) => {
      if (!covers(cumulative, selective, k.frame.seq)) return true;
      covered.push(k);
      return false;
    });
    for (const k of covered) k.onSettled?.(true);
    const highest = highestSelective(cumulative, selective);
    const retransmit: KeptFrame[] = [];
    if (highest !== undefined) {
      for (const k of this.kept) {
        const before = (highest - k.frame.seq) & 0xffff;
        if (before >= 1 && before <= 32767 && now - k.sentAt >= this.fastGapMs) {
          k.sentAt = now;
          k.attempts += 1;
          retransmit.push(k);
        }
      }
    }
    return { acknowledged: covered.length, retransmit };
  }

  /** Frames whose timeout expired: each is due again, and its timeout doubles (up to max). */
  due(now: number): KeptFrame[] {
    const out: KeptFrame[] = [];
    for (const k of this.kept) {
      if (now - k.sentAt < k.timeoutMs) continue;
      k.sentAt = now;
      k.timeoutMs = Math.min(this.maxMs, k.timeoutMs * 2);
      k.attempts += 1;
      out.push(k);
    }
    return out;
  }

  /** Drops every kept frame as failed (a reboot loses RAM; a stop gives up). */
  clear(): number {
    const all = this.kept;
    this.kept = [];
    for (const k of all) k.onSettled?.(false);
    return all.length;
  }
}
