import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import {
  describeConnection,
  MqttEvidence,
  parseConnect,
  scrubStoredPackets,
} from '../src/sources/mqtt/evidence.ts';
import { FrameWalker } from '../src/sources/mqtt/frames.ts';

const PASSWORD = 'hunter2-secret';
const WILL = 'will-payload-secret';

function connect(protocolVersion: 3 | 4 | 5 = 4, extra: Partial<mqttPacket.IConnectPacket> = {}) {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion,
    clean: true,
    clientId: 'dev-1',
    keepalive: 30,
    username: 'dev-1',
    password: Buffer.from(PASSWORD),
    will: { topic: 'iot/v1/dev-1/state', payload: Buffer.from(WILL), qos: 1, retain: false },
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
    ...extra,
  });
}
const publish = (payload: string) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'iot/v1/dev-1/data',
    payload: Buffer.from(payload),
    qos: 1,
    messageId: 7,
    retain: false,
    dup: false,
  });

/** Feeds a stream in the given chunk sizes, as TCP may deliver it. */
function record(stream: Buffer, chunkSizes: number[] = [stream.length]): MqttEvidence {
  const evidence = new MqttEvidence();
  const walker = new FrameWalker(evidence);
  let at = 0;
  for (let i = 0; at < stream.length; i += 1) {
    const n = chunkSizes[i % chunkSizes.length] as number;
    expect(walker.feed(stream.subarray(at, at + n))).toBeUndefined();
    at += n;
  }
  return evidence;
}

const holds = (bytes: Buffer, secret: string) => bytes.includes(Buffer.from(secret));

describe('MqttEvidence', () => {
  it.each([[[1]], [[3, 5]], [[1000]]])(
    'leaves out the CONNECT (password, will payload) and keeps the rest, in chunks of %j',
    (sizes) => {
      const stream = Buffer.concat([connect(), publish('{"seq":1}'), Buffer.from([0xc0, 0x00])]);
      const parts = record(stream, sizes).parts();
      expect(holds(parts.bytes, PASSWORD) || holds(parts.bytes, WILL)).toBe(false);
      expect(parts.bytes).toEqual(Buffer.concat([publish('{"seq":1}'), Buffer.from([0xc0, 0x00])]));
      expect(parts.removed).toEqual([`CONNECT, ${connect().length} bytes`]);
      expect(parts.connect).toEqual({
        protocol: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        clientId: 'dev-1',
        username: 'dev-1',
        hasPassword: true,
        hasWill: true,
      });
    },
  );

  it('describes a CONNECT cut short, and an MQTT 5 one', () => {
    const cut = record(connect().subarray(0, 20)).parts();
    expect(cut.connect).toMatchObject({ protocol: 'MQTT', protocolVersion: 4, clientId: 'dev-1' });
    expect(cut.bytes.length).toBe(0);
    const v5 = record(connect(5)).parts();
    expect(v5.connect).toMatchObject({ protocolVersion: 5, clientId: 'dev-1', username: 'dev-1' });
    expect(holds(v5.bytes, PASSWORD)).toBe(false);
    expect(parseConnect(Buffer.from([0x00, 0x04]))).toEqual({});
  });

  it('keeps at most 512 bytes', () => {
    const parts = record(Buffer.concat([connect(), publish('x'.repeat(2000))])).parts();
    expect(parts.bytes.length).toBe(512);
  });

  it('writes a description without secrets', () => {
    const evidence = record(Buffer.concat([connect(), Buffer.from([0x30, 0x7f, 0xff])]));
    const text = describeConnection({ remote: '192.0.2.7', reason: 'bad', ...evidence.parts() });
    expect(holds(text, PASSWORD) || holds(text, WILL)).toBe(false);
    expect(JSON.parse(text.toString())).toMatchObject({
      remote: '192.0.2.7',
      reason: 'bad',
      clientId: 'dev-1',
      username: 'dev-1',
      protocolVersion: 4,
      hasPassword: true,
      bytes: '307fff',
      removed: [expect.stringMatching(/^CONNECT/)],
    });
  });
});

describe('FrameWalker', () => {
  it('stops at a Remaining Length longer than four bytes', () => {
    const walker = new FrameWalker(new MqttEvidence());
    const stop = walker.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(stop?.error).toMatchObject({ code: 'MQTT_BAD_LENGTH' });
    expect(stop?.at).toBe(5);
  });
});

describe('scrubStoredPackets (rows kept by older gateways)', () => {
  it('removes a CONNECT at the start and keeps what followed', () => {
    const raw = Buffer.concat([connect(), publish('{"garbled'), Buffer.from([0xf0, 0x01])]);
    const parts = scrubStoredPackets(raw);
    expect(holds(parts.bytes, PASSWORD) || holds(parts.bytes, WILL)).toBe(false);
    expect(holds(parts.bytes, '{"garbled')).toBe(true);
    expect(parts.connect?.clientId).toBe('dev-1');
  });

  it('removes a CONNECT cut short by the 512-byte prefix', () => {
    const big = connect(4, { clientId: 'c'.repeat(600) });
    const parts = scrubStoredPackets(big.subarray(0, 512));
    expect(parts.bytes.length).toBe(0);
  });

  it('drops what follows a malformed header, and a CONNECT found off a packet boundary', () => {
    const malformed = scrubStoredPackets(
      Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]), connect()]),
    );
    expect(holds(malformed.bytes, PASSWORD)).toBe(false);
    expect(malformed.removed.join()).toMatch(/after a malformed header/);
    // A PUBLISH header whose declared body swallows a CONNECT: walked as one packet.
    const swallowed = Buffer.concat([Buffer.from([0x30, 0x7f]), connect(3)]);
    const parts = scrubStoredPackets(swallowed);
    expect(holds(parts.bytes, PASSWORD)).toBe(false);
    expect(parts.removed.join()).toMatch(/embedded CONNECT/);
  });
});
