// The hub's REST API and live stream, with the API token (http.token) when the hub has one.
// The token is kept in this browser's localStorage; EventSource cannot send headers, so the
// stream gets it as ?token= (the stream endpoint alone accepts that).

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

/** GET a JSON document from the API; AuthError on 401. */
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

/** The stream URL: readings of `devices` (ids) besides the fleet-wide events. */
export function streamUrl(devices = []) {
  const q = new URLSearchParams();
  if (devices.length > 0) q.set('devices', devices.join(','));
  const t = current();
  if (t) q.set('token', t);
  const s = q.toString();
  return `/api/stream${s ? `?${s}` : ''}`;
}
