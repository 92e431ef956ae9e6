// The device side of the serial protocol (SPEC sections 5 and 6), as a pure state machine:
// every method takes the wall time and returns the wire chunks to write. The transport does
// the I/O. Frames are built with the protocol package's encoder.
import {
  CAPABILITIES,
  COMMAND_STATUS,
  type DataBody,
  ERROR_MESSAGE_CODES,
  encodeFrame,
  FLAG_ACK_REQUEST,
  FLAG_RETRANSMIT,
  type Frame,
  FrameDecoder,
  type Message,
  timeOffset,
} from '@iot-stream/firmware-protocol';
import { sensorsOf } from '../ports.ts';
import type { MetricSpec } from '../profiles/types.ts';
import { rawValue } from '../profiles/types.ts';
import type { Sample } from '../sample.ts';
import { type KeptFrame, type RetransmitOptions, RetransmitQueue } from './retransmit-queue.ts';

/**
 * rtc: data carries `time` (the device's clock, skew included) and `uptime`;
 * uptime: only `uptime`, the gateway maps it to epoch time [FP-6.5];
 * sync: `uptime` until a timeRequest is answered, then `time` = uptime + offset [FP-5.6].
 */
export type ClockMode = 'rtc' | 'uptime' | 'sync';

export interface SerialDeviceOptions {
  deviceId: string;
  firmware: string;
  metrics: readonly MetricSpec[];
  clock?: ClockMode;
  /** false: frames without ACK_REQUEST, nothing kept, a reading counts once written. */
  ack?: boolean;
  retransmit?: RetransmitOptions;
  /** Minimum time between two re-introductions (hello + describe) on gateway request. */
  reintroduceGapMs?: number;
  /** sync mode: ask for the time again after this long. */
  resyncMs?: number;
}

export interface ProtocolCounters {
  framesSent: number;
  retransmits: number;
  acks: number;
  gatewayHellos: number;
  gatewayErrors: number;
  reintroductions: number;
  overflowDrops: number;
  rejectedFromGateway: number;
  timeSyncs: number;
  commands: number;
}

type Body = Message;

/** Seqs a receiver tracks below the highest it saw [FP-6.1]. */
const TRACKED_SEQS = 32;

export class SerialDeviceProtocol {
  session = 0;
  readonly counters: ProtocolCounters = {
    framesSent: 0,
    retransmits: 0,
    acks: 0,
    gatewayHellos: 0,
    gatewayErrors: 0,
    reintroductions: 0,
    overflowDrops: 0,
    rejectedFromGateway: 0,
    timeSyncs: 0,
    commands: 0,
  };
  private seq = 0;
  private readonly queue: RetransmitQueue;
  private readonly decoder = new FrameDecoder();
  private readonly aliases: Map<string, number>;
  private gatewaySession: number | undefined;
  private lastIntroduction = Number.NEGATIVE_INFINITY;
  private offset: number | undefined;
  private timeRequest: { t1: number; wall: number } | undefined;
  private lastSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SerialDeviceOptions) {
    this.queue = new RetransmitQueue(options.retransmit);
    this.aliases = new Map(sensorsOf(options.metrics).map((s) => [s.name, s.alias]));
  }

  get kept(): number {
    return this.queue.size;
  }

  /**
   * Whether a new frame may be sent: the receiver tracks only the 32 seqs below the highest it
   * saw, and acknowledges everything older [FP-5.5], [FP-6.1]. Running further ahead of the
   * oldest unacknowledged frame would let a lost frame count as acknowledged.
   */
  get windowOpen(): boolean {
    const oldest = this.queue.oldestSeq;
    return oldest === undefined || ((this.seq - oldest) & 0xffff) < TRACKED_SEQS;
  }

  /** A (re)boot: a new session from seq 0; a 0x00 first [FP-2.3], then hello and describe. */
  boot(session: number, now: number): Uint8Array[] {
    this.queue.clear();
    this.session = session >>> 0;
    this.seq = 0;
    this.offset = undefined;
    this.timeRequest = undefined;
    this.lastSync = Number.NEGATIVE_INFINITY;
    this.lastIntroduction = now;
    return [new Uint8Array([0]), ...this.introduction(now)];
  }

  /** A data frame for one reading; `onSettled` learns whether an ack covered it. */
  data(sample: Sample, now: number, onSettled: (ok: boolean, seq: number) => void): Uint8Array[] {
    const out: Uint8Array[] = [];
    const body: DataBody = { uptime: Math.max(0, Math.round(sample.uptime)), readings: [] };
    const clock = this.options.clock ?? 'rtc';
    if (clock === 'rtc') body.time = Math.max(0, sample.time);
    if (clock === 'sync') {
      if (this.offset !== undefined) body.time = Math.max(0, (body.uptime as number) + this.offset);
      if (
        this.timeRequest === undefined &&
        now - this.lastSync >= (this.options.resyncMs ?? 600_000)
      ) {
        this.lastSync = now;
        this.timeRequest = { t1: body.uptime as number, wall: now };
        out.push(this.frame({ type: 'timeRequest', body: { uptime: body.uptime as number } }, now));
      }
    }
    for (const { metric, value } of sample.values) {
      const alias = this.aliases.get(metric.name);
      if (alias !== undefined) body.readings.push([alias, rawValue(value, metric.scale)]);
    }
    const seq = this.seq;
    out.push(this.frame({ type: 'data', body }, now, (ok) => onSettled(ok, seq)));
    return out;
  }

  /** Bytes from the gateway: acks, its hello, errors, time responses, commands. */
  receive(chunk: Uint8Array, now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const ev of this.decoder.push(chunk)) {
      if (ev.kind === 'rejected') {
        this.counters.rejectedFromGateway += 1;
        continue;
      }
      const f = ev.frame;
      if (f.type === 'ack') {
        if (f.body.session !== this.session) continue;
        this.counters.acks += 1;
        const r = this.queue.onAck(f.body.cumulative, f.body.selective ?? 0, now);
        out.push(...this.resend(r.retransmit));
      } else if (f.type === 'hello') {
        // The answer to our hello, or a restarted gateway (a new session): introduce again.
        this.counters.gatewayHellos += 1;
        const restarted = this.gatewaySession !== undefined && f.session !== this.gatewaySession;
        this.gatewaySession = f.session;
        if (restarted) out.push(...this.reintroduce(now, true));
      } else if (f.type === 'error') {
        this.counters.gatewayErrors += 1;
        if (f.body.code === ERROR_MESSAGE_CODES.notReady) out.push(...this.reintroduce(now, true));
        if (f.body.code === ERROR_MESSAGE_CODES.unknownAlias)
          out.push(...this.reintroduce(now, false));
      } else if (f.type === 'timeResponse' && this.timeRequest?.t1 === f.body.uptime) {
        const t4 = this.timeRequest.t1 + (now - this.timeRequest.wall);
        this.offset = timeOffset(f.body, t4);
        this.timeRequest = undefined;
        this.counters.timeSyncs += 1;
      } else if (f.type === 'command') {
        this.counters.commands += 1;
        const body = {
          id: f.body.id,
          status: COMMAND_STATUS.unknownCommand,
          message: 'iot-sim runs no commands',
        };
        out.push(this.frame({ type: 'commandResult', body }, now));
      }
    }
    return out;
  }

  /** Retransmissions whose timeout expired; in sync mode, a time request that went unanswered. */
  poll(now: number): Uint8Array[] {
    if (this.timeRequest && now - this.timeRequest.wall > 2000) this.timeRequest = undefined;
    return this.resend(this.queue.due(now));
  }

  /** Gives up on every unacknowledged frame (the device stops or loses power). */
  stop(): number {
    return this.queue.clear();
  }

  private introduction(now: number): Uint8Array[] {
    const capabilities =
      CAPABILITIES.retransmit |
      ((this.options.clock ?? 'rtc') === 'rtc' ? CAPABILITIES.realTimeClock : 0) |
      (this.options.clock === 'sync' ? CAPABILITIES.timeSync : 0);
    const { deviceId, firmware, metrics } = this.options;
    return [
      this.frame({ type: 'hello', body: { deviceId, firmware, capabilities } }, now, () => {}),
      this.frame({ type: 'describe', body: { sensors: sensorsOf(metrics) } }, now, () => {}),
    ];
  }

  private reintroduce(now: number, withHello: boolean): Uint8Array[] {
    if (now - this.lastIntroduction < (this.options.reintroduceGapMs ?? 200)) return [];
    this.lastIntroduction = now;
    this.counters.reintroductions += 1;
    const [hello, describe] = this.introduction(now) as [Uint8Array, Uint8Array];
    return withHello ? [hello, describe] : [describe];
  }

  /** Encodes the next frame of the session; with `onSettled` it requests an ack and is kept. */
  private frame(message: Body, now: number, onSettled?: (ok: boolean) => void): Uint8Array {
    const reliable = onSettled !== undefined && this.options.ack !== false;
    const frame = {
      version: 1,
      flags: reliable ? FLAG_ACK_REQUEST : 0,
      seq: this.seq,
      session: this.session,
      ...message,
    } as Frame;
    this.seq = (this.seq + 1) & 0xffff;
    const wire = encodeFrame(frame);
    this.counters.framesSent += 1;
    if (reliable) {
      const dropped = this.queue.keep(frame, now, onSettled);
      if (dropped) {
        // [FP-6.3]: the buffer for unacknowledged frames is full; tell the gateway (code 7).
        this.counters.overflowDrops += 1;
        const body = {
          code: ERROR_MESSAGE_CODES.overflow,
          message: 'dropped an unacknowledged frame',
          seq: dropped.frame.seq,
        };
        return concat(wire, this.frame({ type: 'error', body }, now));
      }
    } else onSettled?.(true);
    return wire;
  }

  private resend(frames: KeptFrame[]): Uint8Array[] {
    this.counters.retransmits += frames.length;
    return frames.map((k) => encodeFrame({ ...k.frame, flags: k.frame.flags | FLAG_RETRANSMIT }));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
