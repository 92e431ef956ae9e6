import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { DeviceEntry } from '../../config.ts';

/** How devices prove who they are on MQTT. */
export type MqttAuthMode = 'none' | 'password' | 'certificate' | 'password-or-certificate';

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };
/** Room for N = 16384, r = 8 (16 MiB) and twice that. */
const SCRYPT_MAXMEM = 64 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash` (base64url), for the devices file (a one-off: the CLI, tests). */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  const hash = scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/**
 * Checks a password against its `scrypt$...` hash off the event loop (crypto.scrypt runs on
 * libuv's threadpool): scryptSync blocked the loop for tens of milliseconds per CONNECT (more
 * on a Raspberry Pi), stalling every PUBACK and serial acknowledgement while a fleet
 * reconnected. The comparison is constant-time. A malformed hash never matches.
 */
export function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = encoded.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return Promise.resolve(false);
  const expected = Buffer.from(hash, 'base64url');
  const params = { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT_MAXMEM };
  return new Promise((resolve) => {
    try {
      scrypt(password, Buffer.from(salt, 'base64url'), expected.length, params, (err, actual) =>
        resolve(!err && actual.length === expected.length && timingSafeEqual(actual, expected)),
      );
    } catch {
      resolve(false); // parameters scrypt refuses (not a power of two, too much memory)
    }
  });
}

/**
 * Runs at most `concurrency` jobs at once, the rest in arrival order. Password checks go
 * through one: each scrypt takes a threadpool thread (libuv has 4, shared with file I/O and
 * DNS) and 16 MiB, so a burst of CONNECTs cannot take them all. A job whose `wanted()` turns
 * false while it waits (the connection closed) is skipped and resolves `undefined`.
 */
export class LimitedQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly concurrency: number) {}

  /** Jobs waiting for a free slot. */
  get queued(): number {
    return this.waiting.length;
  }

  run<T>(job: () => Promise<T>, wanted: () => boolean = () => true): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      this.waiting.push(() => {
        if (!wanted()) return resolve(undefined);
        this.running += 1;
        new Promise<T>((started) => started(job())).then(resolve, reject).finally(() => {
          this.running -= 1;
          this.next();
        });
      });
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) this.waiting.shift()?.();
  }
}

/** `abandoned`: the connection closed before its password was checked (nothing was decided). */
export type AuthResult =
  | { ok: true; deviceId: string | undefined }
  | { ok: false; reason: string; abandoned?: true };

/**
 * Decides who a connecting client is and what it may do. A device may publish and subscribe
 * only under its own `iot/v1/{deviceId}/` topics, and publish to the topics a mapping rule
 * gives to it (`ownerOf`: the `{device}` level of the first rule that matches). With `none`,
 * anyone may publish for any device (for trials on a trusted network; the gateway warns at
 * start-up).
 */
export class DeviceAuthenticator {
  private readonly checks: LimitedQueue;

  constructor(
    readonly mode: MqttAuthMode,
    private readonly devices: Readonly<Record<string, DeviceEntry>>,
    /** Password checks running at once (mqtt.authConcurrency). */
    concurrency = 2,
    /** The device a topic of a mapping rule belongs to (mqtt.mappings), if any. */
    private readonly ownerOf: (topic: string) => string | undefined = () => undefined,
  ) {
    this.checks = new LimitedQueue(concurrency);
  }

  /**
   * `certificateId`: the subject CN of a verified client certificate, when there is one.
   * `wanted`: false once the connection is gone (a queued password check is then skipped).
   * The cheap checks (device id, client id, listed device) come before the password's.
   */
  async authenticate(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    certificateId: string | undefined,
    wanted: () => boolean = () => true,
  ): Promise<AuthResult> {
    if (this.mode === 'none') return { ok: true, deviceId: undefined };
    const certAllowed = this.mode === 'certificate' || this.mode === 'password-or-certificate';
    const passwordAllowed = this.mode === 'password' || this.mode === 'password-or-certificate';
    if (certAllowed && certificateId !== undefined)
      return this.identify(clientId, certificateId, this.mode !== 'certificate');
    if (!passwordAllowed || username === undefined || password === undefined) {
      return {
        ok: false,
        reason: certAllowed ? 'no verified client certificate' : 'no credentials',
      };
    }
    const identified = this.identify(clientId, username, true);
    if (!identified.ok) return identified;
    const hash = Object.hasOwn(this.devices, username)
      ? this.devices[username]?.passwordHash
      : undefined;
    const verified = hash
      ? await this.checks.run(() => verifyPassword(password.toString('utf8'), hash), wanted)
      : false;
    if (verified === undefined)
      return { ok: false, reason: 'closed while waiting for the password check', abandoned: true };
    return verified ? identified : { ok: false, reason: 'bad username or password' };
  }

  private identify(clientId: string, deviceId: string, mustBeListed: boolean): AuthResult {
    if (!ID.test(deviceId))
      return {
        ok: false,
        reason: `device id ${JSON.stringify(deviceId.slice(0, 80))} is not valid`,
      };
    if (clientId !== deviceId)
      return { ok: false, reason: `client id must equal the device id (${deviceId})` };
    if (mustBeListed && !Object.hasOwn(this.devices, deviceId))
      return { ok: false, reason: `unknown device ${deviceId}` };
    return { ok: true, deviceId };
  }

  /** May this client publish to this topic? `deviceId` is undefined when auth is off. */
  mayPublish(deviceId: string | undefined, topic: string): boolean {
    if (this.mode === 'none') return true;
    if (deviceId === undefined) return false;
    // The protocol's own topics are never a mapping's: ingest reads them first [FP-7.1].
    if (topic.startsWith('iot/v1/')) return topic.startsWith(`iot/v1/${deviceId}/`);
    return this.ownerOf(topic) === deviceId;
  }

  maySubscribe(deviceId: string | undefined, filter: string): boolean {
    if (this.mode === 'none') return true;
    return (
      deviceId !== undefined &&
      (filter === `iot/v1/${deviceId}/#` || filter.startsWith(`iot/v1/${deviceId}/`))
    );
  }
}
