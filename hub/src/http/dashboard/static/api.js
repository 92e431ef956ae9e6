// @ts-check
// The hub's REST API and live stream, with the API token (http.token) when the hub has one.
// The token is kept in this browser's localStorage, pasted into the form or taken from a
// sign-in link (#token=); EventSource cannot send headers, so the stream gets it as ?token=
// (the stream endpoint alone accepts that).

/**
 * @import { HealthBody } from '../../api/app.ts'
 * @import { DevicesAnswer, ReadingsAnswer } from '../../api/routes-devices.ts'
 * @import { AnomaliesAnswer, GatewaysAnswer } from '../../api/routes-misc.ts'
 */
/**
 * The answer to a GET of `path`, in the server's own types (its response schemas), so a change
 * there that the page does not follow fails `npm run typecheck`. A path not listed: unknown.
 * @template {string} P
 * @typedef {P extends `/api/devices/${string}/readings?${string}` ? ReadingsAnswer
 *   : P extends `/api/devices?${string}` ? DevicesAnswer
 *   : P extends `/api/anomalies?${string}` ? AnomaliesAnswer
 *   : P extends '/api/gateways' ? GatewaysAnswer
 *   : P extends '/api/health' ? HealthBody
 *   : unknown} Answer
 */

/** @typedef {{ token: string, error?: undefined } | { error: string, token?: undefined }} LinkToken */

const KEY = 'iot-hub-token';
/** The token when localStorage is off (private mode). */
let memory = '';

export class AuthError extends Error {
  constructor() {
    super('this hub needs its API token');
    this.name = 'AuthError';
  }
}

export function token() {
  try {
    return localStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

/** @param {string} value the token; empty: forget it */
export function setToken(value) {
  try {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  } catch {
    // storage off (private mode): the token lasts for this page only
  }
  memory = value;
}

const current = () => token() || memory;

/**
 * The token of a sign-in link, `/dashboard/#token=<token>` (the link `npm start` prints). In
 * the fragment, the token never reaches the server, so no server or proxy log holds it.
 * Returns undefined when the fragment is no such link, else `{ token }` or `{ error }`.
 * @param {string} hash
 * @returns {LinkToken | undefined}
 */
export function linkToken(hash) {
  const m = /^#token=(.*)$/s.exec(hash);
  if (!m) return undefined;
  let value;
  try {
    value = decodeURIComponent(/** @type {string} */ (m[1])).trim();
  } catch {
    return { error: 'its token is not valid URL encoding' };
  }
  return value ? { token: value } : { error: 'its token is empty' };
}

/**
 * GET a JSON document from the API; AuthError on 401.
 * @template {string} P
 * @param {P} path
 * @returns {Promise<Answer<P>>}
 */
export async function getJson(path) {
  const t = current();
  const res = await fetch(path, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  if (res.status === 401) throw new AuthError();
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
  }
  return res.json();
}

/**
 * The stream URL: readings of `devices` (ids) besides the fleet-wide events.
 * @param {readonly string[]} devices
 */
export function streamUrl(devices = []) {
  const q = new URLSearchParams();
  if (devices.length > 0) q.set('devices', devices.join(','));
  const t = current();
  if (t) q.set('token', t);
  const s = q.toString();
  return `/api/stream${s ? `?${s}` : ''}`;
}
