import { type FrameVisitor, FrameWalker, PACKET_AUTH, PACKET_CONNECT } from './frames.ts';

/** How many bytes of a connection are kept as evidence, at most. */
export const EVIDENCE_BYTES = 512;
/** How much of a CONNECT body is read to describe it (protocol, flags, client id, username). */
const CONNECT_READ_BYTES = 1024;
/** Longest client id or username kept in a description. */
const NAME_CHARS = 128;
const CREDENTIAL_PACKETS: Readonly<Record<number, string>> = {
  [PACKET_CONNECT]: 'CONNECT',
  [PACKET_AUTH]: 'AUTH',
};

/** What a CONNECT said, without what must never be stored: no password, no will payload. */
export interface ConnectSummary {
  protocol?: string;
  protocolVersion?: number;
  clean?: boolean;
  keepalive?: number;
  clientId?: string;
  username?: string;
  /** Whether a password was sent (never the password). */
  hasPassword?: boolean;
  /** Whether a will message was set (never its payload). */
  hasWill?: boolean;
}

/**
 * What a connection sent, safe to keep: its first bytes with every CONNECT and AUTH packet
 * body left out (passwords, will payloads, MQTT 5 authentication data), plus a summary of the
 * first CONNECT. The bytes of a credential packet are never copied into the evidence, so they
 * can never reach the quarantine, however the connection ends.
 */
export class MqttEvidence implements FrameVisitor {
  /** Credential packets left out, e.g. `CONNECT, 61 bytes`. */
  readonly removed: string[] = [];
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private type = -1;
  private connect: ConnectSummary | undefined;
  /** The first CONNECT's body while it arrives, to summarise it (wiped once read). */
  private connectBody: Buffer[] | undefined;
  private connectBytes = 0;

  constructor(private readonly maxBytes = EVIDENCE_BYTES) {}

  /** True when nothing further can change the evidence. */
  get complete(): boolean {
    return this.keptBytes >= this.maxBytes && this.connect !== undefined;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.kept);
  }

  /** The kept bytes, what was left out, and the first CONNECT as far as it arrived. */
  parts(): EvidenceParts {
    this.readConnect();
    return { bytes: this.bytes, removed: [...this.removed], connect: this.connect };
  }

  onHeader(type: number, header: Buffer, bodyLength: number): undefined {
    this.type = type;
    const name = CREDENTIAL_PACKETS[type];
    if (name === undefined) {
      this.keep(header);
      return undefined;
    }
    if (this.removed.length < 8) this.removed.push(`${name}, ${header.length + bodyLength} bytes`);
    if (type === PACKET_CONNECT && this.connect === undefined && this.connectBody === undefined)
      this.connectBody = [];
    return undefined;
  }

  onBody(bytes: Buffer): void {
    if (CREDENTIAL_PACKETS[this.type] === undefined) {
      this.keep(bytes);
      return;
    }
    if (this.connectBody === undefined || this.connectBytes >= CONNECT_READ_BYTES) return;
    const part = Buffer.from(bytes.subarray(0, CONNECT_READ_BYTES - this.connectBytes));
    this.connectBody.push(part);
    this.connectBytes += part.length;
  }

  onEnd(): undefined {
    if (this.type === PACKET_CONNECT) this.readConnect();
    return undefined;
  }

  private readConnect(): void {
    if (this.connectBody === undefined) return;
    const body = Buffer.concat(this.connectBody);
    this.connect = parseConnect(body);
    // The copies held the password: overwrite them rather than leave them to the collector.
    body.fill(0);
    for (const part of this.connectBody) part.fill(0);
    this.connectBody = undefined;
  }

  private keep(bytes: Buffer): void {
    if (this.keptBytes >= this.maxBytes || bytes.length === 0) return;
    const part = Buffer.from(bytes.subarray(0, this.maxBytes - this.keptBytes));
    this.kept.push(part);
    this.keptBytes += part.length;
  }
}

/**
 * Reads a CONNECT body [MQTT-3.1.2, MQTT-3.1.3] (3.1, 3.1.1 and 5) as far as it goes; a
 * truncated or malformed one yields the fields before the damage. Stops before the will
 * payload and never reads the password.
 */
export function parseConnect(body: Buffer): ConnectSummary {
  const out: ConnectSummary = {};
  let at = 0;
  const field = (): Buffer | undefined => {
    if (at + 2 > body.length) return undefined;
    const end = at + 2 + body.readUInt16BE(at);
    if (end > body.length) return undefined;
    const value = body.subarray(at + 2, end);
    at = end;
    return value;
  };
  const text = () => field()?.toString('utf8').slice(0, NAME_CHARS);
  const skipProperties = (): boolean => {
    let length = 0;
    for (let k = 0, scale = 1; k < 4; k += 1, scale *= 128) {
      const byte = body[at];
      if (byte === undefined) return false;
      at += 1;
      length += (byte & 0x7f) * scale;
      if (!(byte & 0x80)) {
        at += length;
        return at <= body.length;
      }
    }
    return false;
  };
  out.protocol = text();
  if (out.protocol === undefined || at + 4 > body.length) return out;
  out.protocolVersion = body[at] as number;
  const flags = body[at + 1] as number;
  out.keepalive = body.readUInt16BE(at + 2);
  at += 4;
  out.clean = (flags & 0x02) !== 0;
  out.hasWill = (flags & 0x04) !== 0;
  out.hasPassword = (flags & 0x40) !== 0;
  const v5 = out.protocolVersion === 5;
  if (v5 && !skipProperties()) return out;
  out.clientId = text();
  if (out.clientId === undefined) return out;
  if (out.hasWill) {
    if (v5 && !skipProperties()) return out;
    if (field() === undefined || field() === undefined) return out; // will topic, will payload
  }
  if (flags & 0x80) out.username = text();
  return out;
}

/** What a connection sent, safe to store; see MqttEvidence. */
export interface EvidenceParts {
  bytes: Buffer;
  removed: readonly string[];
  connect: ConnectSummary | undefined;
}

/** A description of a connection for the quarantine (UTF-8 JSON): what it was, never its secrets. */
export function describeConnection(
  d: Partial<EvidenceParts> & { remote: string | undefined; reason: string; note?: string },
): Buffer {
  return Buffer.from(
    JSON.stringify({
      remote: d.remote ?? null,
      reason: d.reason,
      ...d.connect,
      ...(d.bytes && d.bytes.length > 0 ? { bytes: d.bytes.toString('hex') } : {}),
      ...(d.removed && d.removed.length > 0 ? { removed: d.removed } : {}),
      ...(d.note ? { note: d.note } : {}),
    }),
  );
}

const PROTOCOL_NAMES = [
  Buffer.from('\x00\x04MQTT', 'latin1'),
  Buffer.from('\x00\x06MQIsdp', 'latin1'),
];

/**
 * Scrubs bytes stored by an older gateway that kept whole packets (outbox migration 4): walks
 * them as MQTT packets from the first byte and leaves out credential packets. What cannot be
 * walked (after a malformed header) is dropped, and so is everything from a CONNECT protocol
 * name still found in the result (bytes that did not start at a packet boundary).
 */
export function scrubStoredPackets(raw: Buffer): EvidenceParts {
  const evidence = new MqttEvidence(raw.length);
  const stop = new FrameWalker(evidence).feed(raw);
  const { connect, removed } = evidence.parts();
  const notes = [...removed];
  if (stop && stop.at < raw.length)
    notes.push(`${raw.length - stop.at} bytes after a malformed header`);
  let bytes = evidence.bytes;
  for (const name of PROTOCOL_NAMES) {
    const at = bytes.indexOf(name);
    if (at < 0) continue;
    const cut = Math.max(0, at - 5); // the fixed header before the protocol name
    notes.push(`${bytes.length - cut} bytes from an embedded CONNECT`);
    bytes = bytes.subarray(0, cut);
  }
  return { bytes, removed: notes, connect };
}
