import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteOutbox, type SqliteOutboxOptions } from '../src/outbox/sqlite-outbox.ts';
import { DeviceAuthenticator, hashPassword } from '../src/sources/mqtt/auth.ts';
import { MqttSource, type MqttSourceOptions } from '../src/sources/mqtt/mqtt-source.ts';

// Peers that never authenticate, against the real embedded broker: what they can make the
// gateway store, what it keeps of them (never a password), and whether they can keep devices
// out. Attackers connect from other loopback addresses (127.0.0.2...) than the devices.
const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const hash = hashPassword('secret-one');
const auth = new DeviceAuthenticator('password', {
  'dev-1': { passwordHash: hash },
  'dev-2': { passwordHash: hash },
});

async function broker(
  extra: Partial<MqttSourceOptions> = {},
  box: Partial<SqliteOutboxOptions> = {},
) {
  const path = join(mkdtempSync(join(tmpdir(), 'hostile-')), 'outbox.sqlite');
  const outbox = new SqliteOutbox({ ...box, path });
  const source = new MqttSource({ host: '127.0.0.1', port: 0, outbox, log, ...extra });
  const { port } = await source.start();
  cleanups.push(() => outbox.close());
  cleanups.push(() => source.stop());
  return { outbox, source, port, path };
}

const connectPacket = (
  o: Omit<Partial<mqttPacket.IConnectPacket>, 'password'> & { password?: string },
) =>
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: 'dev-1',
    keepalive: 0,
    username: 'dev-1',
    ...o,
    password: o.password === undefined ? undefined : Buffer.from(o.password),
  });

/** Opens a raw connection from `from`, writes `bytes`, resolves with what came back once closed. */
function exchange(
  port: number,
  bytes: Buffer,
  options: { from?: string; afterReply?: Buffer; holdMs?: number } = {},
): Promise<Buffer> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    const socket = createConnection({ port, host: '127.0.0.1', localAddress: options.from }, () =>
      socket.write(bytes),
    );
    socket.on('data', (d) => {
      received.push(d);
      if (options.afterReply && received.length === 1) socket.write(options.afterReply);
    });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), options.holdMs ?? 3000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

/** The outbox file and its write-ahead log, as bytes on disk. */
const onDisk = (path: string) =>
  Buffer.concat(
    ['', '-wal'].filter((s) => existsSync(path + s)).map((s) => readFileSync(path + s)),
  );

describe('refused logins', () => {
  it('are counted once and kept as a description, never with a password', async () => {
    const { port, source, outbox, path } = await broker({ auth, maxPacketBytes: 4096 });
    const secrets = ['wrong-pass-1', 'secret-one', 'unknown-pass-3', 'will-secret-4'];
    await exchange(port, connectPacket({ password: 'wrong-pass-1' }));
    await exchange(port, connectPacket({ clientId: 'other', password: 'secret-one' }));
    await exchange(
      port,
      connectPacket({ clientId: 'dev-9', username: 'dev-9', password: 'unknown-pass-3' }),
    );
    // MQTT 5 with valid credentials and a will: refused (protocol version) before authentication.
    await exchange(
      port,
      connectPacket({
        protocolVersion: 5,
        password: 'secret-one',
        will: {
          topic: 'iot/v1/dev-1/state',
          payload: Buffer.from('will-secret-4'),
          qos: 0,
          retain: false,
        },
      }),
    );
    // A CONNECT that declares more than maxPacketBytes, its password within the first bytes.
    const oversized = Buffer.from(connectPacket({ password: 'secret-one' }));
    await exchange(
      port,
      Buffer.concat([Buffer.from([0x10, 0xa0, 0x8d, 0x06]), oversized.subarray(2)]),
    );
    // A device that logs in, then breaks the protocol: its CONNECT is not kept either.
    await exchange(port, connectPacket({ password: 'secret-one' }), {
      afterReply: Buffer.from([0x00, 0x00]),
    });

    await expect.poll(() => outbox.stats().quarantined).toBe(6);
    expect(source.counters.rejected).toEqual({
      'auth-failed': 3,
      'connect-refused': 1,
      'packet-too-large': 1,
      'protocol-error': 1,
    });
    expect(outbox.stats().quarantinedByCode).toEqual({
      MQTT_CONNECT_REFUSED: 4,
      PACKET_TOO_LARGE: 1,
      MQTT_PROTOCOL_ERROR: 1,
    });
    for (const secret of secrets) expect(onDisk(path).includes(secret), secret).toBe(false);
    outbox.close();
    for (const secret of secrets) expect(onDisk(path).includes(secret), secret).toBe(false);
    const db = new Database(path, { readonly: true });
    const all = db
      .prepare('SELECT code, reason, raw, unauthenticated FROM quarantine ORDER BY id')
      .all() as Array<{ code: string; reason: string; raw: Buffer; unauthenticated: number }>;
    db.close();
    const rows = all.filter((r) => r.code === 'MQTT_CONNECT_REFUSED');
    expect(rows.map((r) => [r.reason, r.unauthenticated])).toEqual([
      ['bad username or password', 1],
      ['client id must equal the device id (dev-1)', 1],
      ['unknown device dev-9', 1],
      ['unacceptable protocol version', 1],
    ]);
    expect(JSON.parse((rows[3] as { raw: Buffer }).raw.toString())).toMatchObject({
      remote: '127.0.0.1',
      clientId: 'dev-1',
      username: 'dev-1',
      protocolVersion: 5,
      hasPassword: true,
      hasWill: true,
    });
    // The device that logged in: its row is a device's (never evicted by strangers), and keeps
    // what broke the protocol, without the CONNECT.
    const broken = all.find((r) => r.code === 'MQTT_PROTOCOL_ERROR');
    expect(broken?.unauthenticated).toBe(0);
    expect(JSON.parse(String(broken?.raw))).toMatchObject({
      clientId: 'dev-1',
      bytes: '0000',
      removed: [expect.stringMatching(/^CONNECT, \d+ bytes$/)],
    });
    const tooLarge = all.find((r) => r.code === 'PACKET_TOO_LARGE');
    expect(tooLarge).toMatchObject({
      unauthenticated: 1,
      raw: Buffer.from([0x10, 0xa0, 0x8d, 0x06]),
    });
  });

  it('from strangers are rate-limited per address and never push out device rows', {
    timeout: 30_000,
  }, async () => {
    const { port, source, outbox } = await broker(
      { auth, unauthenticated: { recordsPerMinute: 0, recordsBurst: 3 } },
      { maxQuarantineRows: 6, maxUnauthenticatedQuarantineRows: 5 },
    );
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-1',
      username: 'dev-1',
      password: 'secret-one',
      reconnectPeriod: 0,
    });
    cleanups.push(() => device.endAsync(true));
    for (let i = 0; i < 3; i += 1)
      await device.publishAsync('iot/v1/dev-1/data', `bad ${i}`, { qos: 1 });
    const attacks = [2, 3, 4, 5].flatMap((host) =>
      Array.from(
        { length: 10 },
        () => () =>
          exchange(port, connectPacket({ password: 'guess' }), { from: `127.0.0.${host}` }),
      ),
    );
    for (let i = 0; i < attacks.length; i += 8)
      await Promise.all(attacks.slice(i, i + 8).map((a) => a()));

    expect(source.counters.rejected).toEqual({ 'auth-failed': 40 });
    expect(source.counters.rateLimited).toEqual({ MQTT_CONNECT_REFUSED: 28 });
    await expect.poll(() => outbox.stats().drops['quarantine-unauthenticated-cap']).toBe(9);
    expect(outbox.stats().quarantinedByCode).toEqual({ JSON_INVALID: 3, MQTT_CONNECT_REFUSED: 3 });
  });
});

describe('connections that never send CONNECT', () => {
  it('do not keep a device out, however many are held open and renewed', {
    timeout: 20_000,
  }, async () => {
    const { port, source, outbox } = await broker({
      maxClients: 2,
      connectTimeoutMs: 300,
      maxPending: 30,
      maxPendingPerAddress: 3,
    });
    let attacking = true;
    const held = new Set<Socket>();
    const hold = (from: string) => {
      if (!attacking) return;
      const socket = createConnection({ port, host: '127.0.0.1', localAddress: from });
      held.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        held.delete(socket);
        setTimeout(() => hold(from), 10); // renewed as soon as the gateway closes it
      });
    };
    for (const host of [2, 3, 4, 5, 6]) for (let i = 0; i < 5; i += 1) hold(`127.0.0.${host}`);
    cleanups.push(() => {
      attacking = false;
      for (const s of held) s.destroy();
    });
    await new Promise((r) => setTimeout(r, 500)); // the idle sockets are in place
    const devices = await Promise.all(
      ['dev-1', 'dev-2'].map((clientId) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
          clientId,
          reconnectPeriod: 0,
          connectTimeout: 3000,
        }),
      ),
    );
    for (const d of devices) cleanups.push(() => d.endAsync(true));
    for (let seq = 0; seq < 20; seq += 1) {
      await devices[seq % 2]?.publishAsync(
        `iot/v1/dev-${(seq % 2) + 1}/data`,
        `{"seq":${seq},"metrics":{"t":{"value":1}}}`,
        { qos: 1 },
      );
      await new Promise((r) => setTimeout(r, 50)); // through a few rounds of renewals
    }
    expect(outbox.stats().backlogRows).toBe(20);
    expect(source.counters.rejected['connect-timeout']).toBeGreaterThan(0);
    expect(source.counters.rejected['max-pending-per-address']).toBeGreaterThan(0);
    expect(source.counters.rejected['max-clients']).toBeUndefined();
    expect(outbox.stats().quarantined).toBe(0); // nothing was sent, nothing to keep
  });

  it('are closed after connectTimeoutMs, keeping what they sent (if anything)', async () => {
    const { port, source, outbox } = await broker({ connectTimeoutMs: 200 });
    // Half a PUBLISH, then silence; and half a CONNECT (its bytes are never kept).
    await exchange(port, Buffer.from([0x30, 0x20, 0x00, 0x03]), { from: '127.0.0.2' });
    await exchange(port, connectPacket({ password: 'secret-one' }).subarray(0, 30), {
      from: '127.0.0.3',
    });
    expect(source.counters.rejected).toEqual({ 'connect-timeout': 2 });
    await expect.poll(() => outbox.stats().quarantinedByCode).toEqual({ MQTT_PROTOCOL_ERROR: 1 });
  });
});
