import { type AckBody, CAPABILITIES } from '@iot-stream/firmware-protocol';
import type { Logger } from 'pino';
import type { AckStore } from '../../ports.ts';
import { AckTracker } from './ack-tracker.ts';

/** A gap a retransmitting device has not filled in this long is given up (counted as lost). */
const GAP_TIMEOUT_MS = 30_000;

export interface SessionAcksOptions {
  store: AckStore;
  now: () => number;
  log: Logger;
  source: string;
  send: (body: AckBody) => void;
  /** Acknowledge within this many ms of a handled frame, or after `ackEvery` frames [FP-6.3]. */
  ackDelayMs?: number | undefined;
  ackEvery?: number | undefined;
}

/**
 * When and what the gateway acknowledges in one device session [FP-6.3a]: nothing before the
 * session's hello; from the persisted baseline after it; each acknowledgement recorded durably
 * before it is sent.
 */
export class SessionAcks {
  /** Frames given up as lost (a gap the device never filled). */
  givenUp = 0;
  private tracker: AckTracker | undefined;
  private deviceId: string | undefined;
  private retransmits = false;
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SessionAcksOptions) {}

  /** The session's hello: resume from the last acknowledgement any run of this gateway sent. */
  begin(deviceId: string, session: number, capabilities: number): void {
    if (
      this.tracker === undefined ||
      this.deviceId !== deviceId ||
      this.tracker.session !== session
    ) {
      // A new session starts before seq 0; frames the device still holds are never claimed.
      const baseline = this.options.store.loadAck(deviceId, session) ?? 0xffff;
      this.tracker = new AckTracker(session, baseline, this.options.now);
    }
    this.deviceId = deviceId;
    this.retransmits = (capabilities & CAPABILITIES.retransmit) !== 0;
  }

  /** A reboot (new session id): nothing is acknowledged until the next hello. */
  reset(): void {
    this.stop();
    this.tracker = undefined;
    this.deviceId = undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = 0;
  }

  /** The frame is fully handled (committed, for data): it may be acknowledged. */
  handled(frame: { session: number; seq: number }): void {
    const tracker = this.tracker;
    if (tracker === undefined || frame.session !== tracker.session) return; // rebooted meanwhile
    tracker.handled(frame.seq);
    // A device that keeps no copies never fills a gap; one that does gets GAP_TIMEOUT_MS.
    if (!this.retransmits || tracker.gapAgeMs() > GAP_TIMEOUT_MS) {
      this.giveUpGap(this.retransmits ? 'gap not filled in time' : 'device does not retransmit');
    }
    this.pending += 1;
    if (this.pending >= (this.options.ackEvery ?? 8)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.ackDelayMs ?? 20);
  }

  giveUpGap(why: string): void {
    const lost = this.tracker?.giveUpGap() ?? 0;
    if (lost > 0) {
      this.givenUp += lost;
      this.options.log.warn(
        { source: this.options.source, deviceId: this.deviceId, lost, why },
        'frames given up as lost',
      );
    }
  }

  private flush(): void {
    this.stop();
    const { tracker, deviceId } = this;
    if (tracker === undefined || deviceId === undefined) return;
    const body = tracker.body();
    try {
      // Durable before it is sent: a restarted gateway resumes from here.
      this.options.store.saveAck(deviceId, tracker.session, body.cumulative);
    } catch (err) {
      this.options.log.error(
        { err, source: this.options.source },
        'could not record the acknowledgement; not sending it',
      );
      return;
    }
    this.options.send(body);
  }
}
