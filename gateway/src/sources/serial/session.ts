import { createHash } from 'node:crypto';
import {
  type DecodedFrame,
  type DecoderEvent,
  dataToJson,
  ERROR_MESSAGE_CODES,
  type Frame,
  FrameDecoder,
  FrameSender,
  type RejectedFrame,
  type SensorDescription,
} from '@iot-stream/firmware-protocol';
import type { Logger } from 'pino';
import { Code } from '../../errors.ts';
import type { AckStore, IngestCounters } from '../../ports.ts';
import { commitReading, type IngestContext, quarantine } from '../ingest.ts';
import { SessionAcks } from './acks.ts';

/** What the gateway announces in its hello [FP-5.2]: its id, and the frames it can take. */
export interface GatewayIdentity {
  gatewayId: string;
  firmware: string;
  /** Largest frame the gateway accepts after hellos were exchanged [FP-6.4]. */
  maxFrame: number;
}

export interface SerialSessionOptions {
  source: string;
  identity: GatewayIdentity;
  /** The gateway's own session id on this link (random per start). */
  session: number;
  ingest: IngestContext;
  /** Where the acknowledgements sent in this session are kept durably. */
  acks: AckStore;
  write: (bytes: Uint8Array) => void;
  log: Logger;
  /** Acknowledge within this many ms of a commit, or after `ackEvery` frames [FP-6.3]. */
  ackDelayMs?: number;
  ackEvery?: number;
}

export interface SerialSessionState {
  deviceId: string | null;
  session: number | null;
  firmware: string | null;
  sensors: number;
}

const ERROR_FOR: Partial<Record<string, number>> = {
  [Code.UNSUPPORTED_VERSION]: ERROR_MESSAGE_CODES.unsupportedVersion,
  [Code.UNSUPPORTED_FLAGS]: ERROR_MESSAGE_CODES.unsupportedFlags,
  [Code.UNKNOWN_TYPE]: ERROR_MESSAGE_CODES.unknownType,
  [Code.PAYLOAD_INVALID]: ERROR_MESSAGE_CODES.payloadInvalid,
};
const LOG_LEVEL = ['debug', 'info', 'warn', 'error'] as const;

/**
 * The gateway's side of one serial link (SPEC sections 5 and 6). Data readings are committed
 * to the outbox and acknowledged only once committed: the acknowledgement is built from a
 * tracker fed by finished commits, never by mere reception. Rejected frames are quarantined
 * with their reason and raw bytes. A new session id (a reboot) resets identity, sensor
 * descriptions and the time offset.
 */
export class SerialSession {
  readonly decoder = new FrameDecoder();
  readonly state: SerialSessionState = {
    deviceId: null,
    session: null,
    firmware: null,
    sensors: 0,
  };
  private sensors = new Map<number, SensorDescription>();
  /** Smallest (receive time - uptime) of the session: the gateway's clock offset estimate [FP-6.5]. */
  private offset: number | undefined;
  readonly acks: SessionAcks;
  private readonly sender: FrameSender;

  constructor(private readonly options: SerialSessionOptions) {
    this.sender = new FrameSender(options.session);
    this.acks = new SessionAcks({
      store: options.acks,
      now: options.ingest.now,
      log: options.log,
      source: options.source,
      send: (body) => this.send({ type: 'ack', body }),
      ackDelayMs: options.ackDelayMs,
      ackEvery: options.ackEvery,
    });
  }

  get counters(): IngestCounters {
    return this.options.ingest.counters;
  }

  /** Feeds bytes read from the port. */
  onBytes(chunk: Uint8Array): void {
    for (const event of this.decoder.push(chunk)) this.onEvent(event);
  }

  /** The port closed: bytes after the last delimiter are a truncated frame. */
  onClose(): void {
    for (const event of this.decoder.end()) this.onEvent(event);
    this.acks.stop();
  }

  private onEvent(event: DecoderEvent): void {
    if (event.kind === 'rejected') {
      this.onRejected(event);
      return;
    }
    if (event.frame.session !== this.state.session) this.newSession(event.frame.session);
    // Every frame is processed, even one the decoder saw before: a frame the gateway refused
    // (unknown alias, no hello yet) comes back as a retransmission and must be handled then.
    // Data is never stored twice: the outbox recognises (device, session, seq) + body digest
    // and the frame is acknowledged again [FP-6.1].
    this.onFrame(event);
  }

  private onRejected(event: RejectedFrame): void {
    const { ingest, source, log } = this.options;
    log.warn(
      { source, code: event.code, reason: event.reason, offset: event.offset },
      'serial frame rejected',
    );
    void quarantine(ingest, source, event.code, event.reason, event.raw).catch(() => undefined);
    const code = ERROR_FOR[event.code];
    if (event.header && code !== undefined) {
      this.send({
        type: 'error',
        body: { code, message: `${event.code}: ${event.reason}; version 1`, seq: event.header.seq },
      });
    }
  }

  private newSession(session: number): void {
    if (this.state.session !== null) {
      this.options.log.info(
        { source: this.options.source, deviceId: this.state.deviceId, session },
        'device rebooted (new session)',
      );
    }
    this.state.session = session;
    this.state.deviceId = null;
    this.state.firmware = null;
    this.state.sensors = 0;
    this.sensors = new Map();
    this.offset = undefined;
    this.acks.reset();
  }

  private onFrame(event: DecodedFrame): void {
    const { frame } = event;
    switch (frame.type) {
      case 'hello': {
        const { deviceId, capabilities } = frame.body;
        this.acks.begin(deviceId, frame.session, capabilities);
        this.state.deviceId = deviceId;
        this.state.firmware = frame.body.firmware;
        this.options.log.info(
          {
            source: this.options.source,
            deviceId: frame.body.deviceId,
            firmware: frame.body.firmware,
          },
          'device hello',
        );
        this.decoder.setMaxFrame(this.options.identity.maxFrame);
        this.sendHello();
        this.done(frame);
        return;
      }
      case 'describe':
        for (const s of frame.body.sensors) this.sensors.set(s.alias, s);
        this.state.sensors = this.sensors.size;
        this.done(frame);
        return;
      case 'data':
        this.onData(event);
        return;
      case 'timeRequest': {
        const received = this.options.ingest.now();
        this.send({
          type: 'timeResponse',
          body: { uptime: frame.body.uptime, received, sent: this.options.ingest.now() },
        });
        this.done(frame);
        return;
      }
      case 'log': {
        const level = LOG_LEVEL[frame.body.level] ?? 'error';
        this.options.log[level](
          { source: this.options.source, deviceId: this.state.deviceId, uptime: frame.body.uptime },
          `device: ${frame.body.message}`,
        );
        this.done(frame);
        return;
      }
      case 'error':
        this.options.log.warn(
          { source: this.options.source, deviceId: this.state.deviceId, ...frame.body },
          'device reported an error',
        );
        this.done(frame);
        return;
      default:
        // ack, commandResult, and messages only a gateway sends: nothing to store.
        this.done(frame);
    }
  }

  private onData(event: DecodedFrame): void {
    const frame = event.frame as Extract<Frame, { type: 'data' }>;
    const { ingest, source } = this.options;
    const now = ingest.now();
    const deviceId = this.state.deviceId;
    if (deviceId === null) {
      // A gateway restart or a missed hello: ask the device to introduce itself again, and
      // leave the frame unacknowledged so a retransmitting device sends it once more.
      ingest.counters.received += 1;
      void quarantine(
        ingest,
        source,
        Code.NOT_READY,
        'data before hello in this session',
        event.bytes,
      ).catch(() => undefined);
      this.send({
        type: 'error',
        body: { code: ERROR_MESSAGE_CODES.notReady, message: 'hello needed', seq: frame.seq },
      });
      this.sendHello();
      return;
    }
    if (frame.body.uptime !== undefined) {
      const candidate = now - frame.body.uptime;
      this.offset = this.offset === undefined ? candidate : Math.min(this.offset, candidate);
    }
    const offset = this.offset;
    const converted = dataToJson(frame, this.sensors, (uptime) =>
      offset === undefined ? undefined : uptime + offset,
    );
    if (!converted.ok || converted.unknownAliases.length > 0) {
      const reason = converted.ok
        ? `unknown aliases ${converted.unknownAliases.join(',')}`
        : converted.reason;
      ingest.counters.received += 1;
      void quarantine(ingest, source, Code.UNKNOWN_ALIAS, reason, event.bytes).catch(
        () => undefined,
      );
      this.send({
        type: 'error',
        body: { code: ERROR_MESSAGE_CODES.unknownAlias, message: reason, seq: frame.seq },
      });
      return;
    }
    if (Object.keys(converted.reading.metrics).length === 0) {
      this.done(frame); // a heartbeat [FP-5.4]: nothing to store
      return;
    }
    ingest.counters.received += 1;
    const { session, seq, time, metrics } = converted.reading;
    const reading = { deviceId, session, seq, time: time ?? now, receivedAt: now, metrics };
    // Stored, or quarantined for a clock fault (a retransmission would carry the same stamp):
    // either way it is on disk, so it is acknowledged. A failed commit is not (logged there).
    commitReading(ingest, source, { ...reading, digest: bodyDigest(frame.body) }, event.bytes).then(
      () => this.done(frame),
      () => undefined,
    );
  }

  /** The frame is fully handled (committed, for data): it may be acknowledged. */
  private done(frame: Frame): void {
    this.acks.handled(frame);
  }

  private sendHello(): void {
    const { gatewayId, firmware, maxFrame } = this.options.identity;
    this.send({
      type: 'hello',
      body: { deviceId: gatewayId, firmware, capabilities: 0, maxFrame },
    });
  }

  private send(message: Parameters<FrameSender['send']>[0]): void {
    try {
      this.options.write(this.sender.send(message));
    } catch (err) {
      this.options.log.error(
        { err, source: this.options.source, message: JSON.stringify(message) },
        'could not encode a frame to the device',
      );
    }
  }
}

/** A retransmission carries the same body with another flag: hash the body, not the bytes. */
function bodyDigest(body: unknown): string {
  return createHash('sha1').update(JSON.stringify(body)).digest('base64url');
}
