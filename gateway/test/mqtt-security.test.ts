import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import { DeviceAuthenticator, hashPassword, verifyPassword } from '../src/sources/mqtt/auth.ts';
import { MqttSource, type MqttSourceOptions } from '../src/sources/mqtt/mqtt-source.ts';

const log = pino({ level: 'silent' });
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const devices = {
  'dev-1': { passwordHash: hashPassword('secret-one') },
  'dev-2': { passwordHash: hashPassword('secret-two') },
};

async function broker(extra: Partial<MqttSourceOptions> = {}) {
  const outbox = new SqliteOutbox({ path: join(mkdtempSync(join(tmpdir(), 'sec-')), 'o.sqlite') });
  const source = new MqttSource({ host: '127.0.0.1', port: 0, outbox, log, ...extra });
  const ports = await source.start();
  cleanups.push(() => outbox.close());
  cleanups.push(() => source.stop());
  return { outbox, source, ...ports };
}

async function connect(url: string, options: mqtt.IClientOptions) {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 3000,
    ...options,
  });
  cleanups.push(() => client.endAsync(true));
  return client;
}

const reading = '{"seq":1,"metrics":{"t":{"value":1}}}';

describe('password hashes', () => {
  it('verify only the right password', async () => {
    const hash = hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$3$8$1$c2FsdA$aGFzaA')).toBe(false); // N not 2^k
  });
});

describe('MQTT authentication and authorisation', () => {
  const auth = new DeviceAuthenticator('password', devices);

  it('accepts a device with its password and stores what it publishes', async () => {
    const { port, outbox } = await broker({ auth });
    const c = await connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-1',
      username: 'dev-1',
      password: 'secret-one',
    });
    await c.publishAsync('iot/v1/dev-1/data', reading, { qos: 1 });
    expect(outbox.stats().backlogRows).toBe(1);
  });

  it.each([
    ['a wrong password', { clientId: 'dev-1', username: 'dev-1', password: 'nope' }],
    ['an unknown device', { clientId: 'dev-9', username: 'dev-9', password: 'secret-one' }],
    ['no credentials', { clientId: 'dev-1' }],
    [
      'a client id that is not its device id',
      { clientId: 'other', username: 'dev-1', password: 'secret-one' },
    ],
  ])('refuses %s, counted once and kept without its secrets', async (_name, options) => {
    const { port, source, outbox } = await broker({ auth });
    await expect(connect(`mqtt://127.0.0.1:${port}`, options)).rejects.toThrow(
      /Bad username or password/,
    );
    await expect.poll(() => outbox.stats().quarantined).toBe(1);
    expect(outbox.stats().quarantinedByCode).toEqual({ MQTT_CONNECT_REFUSED: 1 });
    expect(source.counters.rejected).toEqual({ 'auth-failed': 1 });
  });

  it('refuses a publish to another device, keeping the payload in quarantine', async () => {
    const { port, source, outbox } = await broker({ auth });
    const c = await connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-1',
      username: 'dev-1',
      password: 'secret-one',
    });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('iot/v1/dev-2/data', reading, { qos: 1 });
    await closed;
    expect(source.counters.rejected['publish-denied']).toBe(1);
    expect(outbox.stats()).toMatchObject({ backlogRows: 0, quarantined: 1 });
  });

  it('refuses a subscription to another device', async () => {
    const { port, source } = await broker({ auth });
    const c = await connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-1',
      username: 'dev-1',
      password: 'secret-one',
    });
    const granted = await c.subscribeAsync('iot/v1/dev-2/cmd', { qos: 1 }).then(
      (g) => g[0]?.qos,
      () => 'closed',
    );
    expect([128, 'closed']).toContain(granted);
    expect(source.counters.rejected['subscribe-denied']).toBe(1);
    const own = await connect(`mqtt://127.0.0.1:${port}`, {
      clientId: 'dev-2',
      username: 'dev-2',
      password: 'secret-two',
    });
    expect((await own.subscribeAsync('iot/v1/dev-2/cmd', { qos: 1 }))[0]?.qos).toBe(1);
  });
});

describe('MQTT limits', () => {
  it('closes a connection whose packet exceeds maxPacketBytes, before buffering it', async () => {
    const { port, source, outbox } = await broker({ maxPacketBytes: 4096 });
    const c = await connect(`mqtt://127.0.0.1:${port}`, { clientId: 'big' });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('iot/v1/big/data', Buffer.alloc(100_000, 0x61), { qos: 1 });
    await closed;
    expect(source.counters.rejected['packet-too-large']).toBe(1);
    await expect.poll(() => outbox.stats().quarantined).toBe(1);
    const small = await connect(`mqtt://127.0.0.1:${port}`, { clientId: 'small' });
    await small.publishAsync('iot/v1/small/data', reading, { qos: 1 });
  });

  it('refuses a CONNECT beyond maxClients', async () => {
    const { port, source } = await broker({ maxClients: 2 });
    await connect(`mqtt://127.0.0.1:${port}`, { clientId: 'a' });
    await connect(`mqtt://127.0.0.1:${port}`, { clientId: 'b' });
    const third = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'c', reconnectPeriod: 0 });
    cleanups.push(() => third.endAsync(true));
    await new Promise<void>((resolve) => third.once('close', () => resolve()));
    expect(third.connected).toBe(false);
    expect(source.counters.rejected).toEqual({ 'max-clients': 1 });
  });
});

describe('MQTT over TLS with client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const file = (name: string) => join(dir, name);
  beforeAll(() => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl(
      'req',
      '-x509',
      ...key,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=test-ca',
    );
    writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    for (const [name, cn, ext] of [
      ['server', 'localhost', ['-extfile', 'server.ext']],
      ['dev-1', 'dev-1', []],
    ] as const) {
      ssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      ssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        ...ext,
      );
    }
  });
  const tlsOptions = () => ({
    host: '127.0.0.1',
    port: 0,
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    caFile: file('ca.pem'),
    requestClientCert: true,
  });

  it('identifies a device by its certificate and refuses one without', async () => {
    const { tlsPort, outbox, source } = await broker({
      tls: tlsOptions(),
      auth: new DeviceAuthenticator('certificate', {}),
    });
    const url = `mqtts://127.0.0.1:${tlsPort}`;
    const ca = readFileSync(file('ca.pem'));
    const c = await connect(url, {
      clientId: 'dev-1',
      ca,
      cert: readFileSync(file('dev-1.pem')),
      key: readFileSync(file('dev-1.key')),
    });
    await c.publishAsync('iot/v1/dev-1/data', reading, { qos: 1 });
    expect(outbox.stats().backlogRows).toBe(1);
    await expect(connect(url, { clientId: 'dev-1', ca })).rejects.toThrow(
      /Bad username or password/,
    );
    expect(source.counters.rejected['auth-failed']).toBe(1);
  });

  it('verifies the server against the CA (no certificate checks turned off)', async () => {
    const { tlsPort } = await broker({ tls: tlsOptions() });
    await expect(
      connect(`mqtts://127.0.0.1:${tlsPort}`, { clientId: 'x', connectTimeout: 2000 }),
    ).rejects.toThrow(/certificate/);
  });
});
