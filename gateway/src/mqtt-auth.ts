import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** How devices prove who they are on MQTT. */
export type MqttAuthMode = 'none' | 'password' | 'certificate' | 'password-or-certificate';

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** `scrypt$N$r$p$salt$hash` (base64url), for the devices file. */
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

export function verifyPassword(password: string, encoded: string): boolean {
  const [kind, n, r, p, salt, hash] = encoded.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export interface DeviceEntry {
  passwordHash?: string | undefined;
}

export type AuthResult = { ok: true; deviceId: string | undefined } | { ok: false; reason: string };

/**
 * Decides who a connecting client is and what it may do. A device may publish and subscribe
 * only under its own `iot/v1/{deviceId}/` topics. With `none`, anyone may publish for any
 * device (for trials on a trusted network; the gateway warns at start-up).
 */
export class DeviceAuthenticator {
  constructor(
    readonly mode: MqttAuthMode,
    private readonly devices: Readonly<Record<string, DeviceEntry>>,
  ) {}

  /** `certificateId`: the subject CN of a verified client certificate, when there is one. */
  authenticate(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    certificateId: string | undefined,
  ): AuthResult {
    if (this.mode === 'none') return { ok: true, deviceId: undefined };
    const certAllowed = this.mode === 'certificate' || this.mode === 'password-or-certificate';
    const passwordAllowed = this.mode === 'password' || this.mode === 'password-or-certificate';
    let deviceId: string | undefined;
    if (certAllowed && certificateId !== undefined) {
      deviceId = certificateId;
    } else if (passwordAllowed && username !== undefined && password !== undefined) {
      const entry = this.devices[username];
      if (!entry?.passwordHash || !verifyPassword(password.toString('utf8'), entry.passwordHash)) {
        return { ok: false, reason: 'bad username or password' };
      }
      deviceId = username;
    } else {
      return {
        ok: false,
        reason: certAllowed ? 'no verified client certificate' : 'no credentials',
      };
    }
    if (!ID.test(deviceId))
      return { ok: false, reason: `device id ${JSON.stringify(deviceId)} is not valid` };
    if (clientId !== deviceId)
      return { ok: false, reason: `client id must equal the device id (${deviceId})` };
    if (!(deviceId in this.devices) && this.mode !== 'certificate') {
      return { ok: false, reason: `unknown device ${deviceId}` };
    }
    return { ok: true, deviceId };
  }

  /** May this client publish to this topic? `deviceId` is undefined when auth is off. */
  mayPublish(deviceId: string | undefined, topic: string): boolean {
    if (this.mode === 'none') return true;
    return deviceId !== undefined && topic.startsWith(`iot/v1/${deviceId}/`);
  }

  maySubscribe(deviceId: string | undefined, filter: string): boolean {
    if (this.mode === 'none') return true;
    return (
      deviceId !== undefined &&
      (filter === `iot/v1/${deviceId}/#` || filter.startsWith(`iot/v1/${deviceId}/`))
    );
  }
}
