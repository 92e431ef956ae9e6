// Loss and duplicate detection per session [FP-6.1], [FP-6.2]. A 32-frame window behind the
// highest seq tells a late retransmission (recovered) from a duplicate; any other seq counts
// as ahead of the highest, so that a long outage is a gap and never a run of duplicates.

import type { AckBody } from './messages.ts';

export type SeqStatus = 'first' | 'next' | 'gap' | 'duplicate' | 'late';

export const SEQ_WINDOW = 32;

export interface SeqCounters {
  sessions: number;
  gaps: number;
  lost: number;
  duplicates: number;
  recovered: number;
}

export class SequenceTracker {
  private started = false;
  private session = 0;
  private highest = 0;
  /** Bit i set: seq (highest - i) was received. */
  private window = 0;
  /** How many seqs up to the highest belong to this session, at most the window. */
  private span = 0;

  /** Records one frame; returns its status and, for a gap, how many frames are missing. */
  track(session: number, seq: number, c: SeqCounters): { status: SeqStatus; missing: number } {
    if (!this.started || session !== this.session) {
      // A new session id means the sender rebooted [FP-6.2].
      this.started = true;
      this.session = session;
      this.highest = seq;
      this.window = 1;
      this.span = 1;
      c.sessions++;
      return { status: 'first', missing: 0 };
    }
    const ahead = (seq - this.highest) & 0xffff;
    if (ahead === 0) {
      c.duplicates++;
      return { status: 'duplicate', missing: 0 };
    }
    const behind = (this.highest - seq) & 0xffff;
    if (behind >= SEQ_WINDOW) {
      // Anything not within the window behind is ahead, even after a long outage.
      this.window = ahead >= SEQ_WINDOW ? 1 : ((this.window << ahead) | 1) >>> 0;
      this.span = Math.min(SEQ_WINDOW, this.span + ahead);
      this.highest = seq;
      if (ahead === 1) return { status: 'next', missing: 0 };
      c.gaps++;
      c.lost += ahead - 1;
      return { status: 'gap', missing: ahead - 1 };
    }
    const bit = (1 << behind) >>> 0;
    if ((this.window & bit) !== 0) {
      c.duplicates++;
      return { status: 'duplicate', missing: 0 };
    }
    this.window = (this.window | bit) >>> 0;
    c.recovered++;
    return { status: 'late', missing: 0 };
  }

  /**
   * The acknowledgement for what was received [FP-5.5], [FP-6.3]: cumulative up to the seq
   * before the oldest one missing in the window, selective bits for those received after it.
   * Seqs that fell out of the window are given up and count as acknowledged.
   */
  ack(): AckBody | undefined {
    if (!this.started) return undefined;
    let oldest = 0;
    for (let i = this.span - 1; i >= 1; i--) {
      if ((this.window & (1 << i)) === 0) {
        oldest = i;
        break;
      }
    }
    if (oldest === 0) return { session: this.session, cumulative: this.highest };
    let selective = 0;
    for (let i = 1; i <= oldest; i++) {
      if ((this.window & (1 << (oldest - i))) !== 0) selective |= 1 << i;
    }
    return {
      session: this.session,
      cumulative: (this.highest - oldest - 1) & 0xffff,
      selective: selective >>> 0,
    };
  }
}
