// @ts-check
// The dashboard's entry point: routes (#/, #/device/<id>, #/anomalies), the live stream
// (server-sent events from /api/stream), the API token prompt and sign-in links (#token=).
import { anomaliesPage } from './anomalies.js';
import { AuthError, getJson, linkToken, setToken, streamUrl, token } from './api.js';
import { devicePage } from './device.js';
import { overview } from './overview.js';
import { Store } from './store.js';

/**
 * @import { StreamEvents } from '../plugin.ts'
 * @import { LinkToken } from './api.js'
 */
/**
 * A page (overview, device, anomalies): the devices whose readings it follows, how it loads
 * its data (again after a reconnect), how it goes away.
 * @typedef {object} Page
 * @property {string[]} devices
 * @property {() => Promise<void>} [load]
 * @property {() => void} destroy
 */

/** The page's fixed elements (index.html). */
const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const store = new Store();
const view = byId('view');
const liveEl = byId('live');
const dialog = /** @type {HTMLDialogElement} */ (byId('token-dialog'));
const forget = byId('forget-token');
const tokenNote = byId('token-note');
/**
 * Why the token form is shown, when a sign-in link was opened: its token, or its fault.
 * @type {LinkToken | undefined}
 */
let link;
/**
 * The page shown: { devices, load?, destroy }.
 * @type {Page | undefined}
 */
let page;
/** @type {EventSource | undefined} */
let stream;

/** Devices, anomalies, health and gateways from the REST API. */
async function loadAll() {
  const [devices, anomalies, health, gateways] = await Promise.all([
    getJson('/api/devices?limit=1000'),
    getJson('/api/anomalies?limit=500'),
    getJson('/api/health'),
    getJson('/api/gateways'),
  ]);
  store.setDevices(devices.devices);
  store.setAnomalies(anomalies.anomalies);
  store.setHealth({
    status: health.status,
    kafka: health.kafka,
    influx: health.influx,
    lag: health.pipeline?.lag,
  });
  store.setGateways(gateways.gateways);
  forget.hidden = !token();
  link = undefined;
}

/** @param {Error} err */
function failed(err) {
  if (err instanceof AuthError) return askToken();
  console.warn('dashboard:', err);
  setLive('error', err.message);
}

/**
 * @param {string} state
 * @param {string} [text]
 */
function setLive(state, text = state) {
  liveEl.dataset.state = state;
  liveEl.textContent = text;
  document.body.dataset.stream = state;
}

/**
 * (Re)connects the stream when the page needs other devices' readings.
 * @param {string[]} devices
 */
function connect(devices) {
  const url = streamUrl(devices);
  if (stream?.url.endsWith(url) && stream.readyState !== EventSource.CLOSED) return;
  stream?.close();
  setLive('connecting');
  const es = new EventSource(url);
  stream = es;
  let reconnecting = false;
  let loaded = false;
  es.addEventListener('open', () => {
    setLive('live');
    document.body.dataset.streamDevices = devices.join(',');
    // The page loads its data once subscribed, so nothing written meanwhile is missed;
    // after a reconnect everything is reloaded.
    if (reconnecting) loadAll().catch(failed);
    page?.load?.().catch(failed);
    loaded = true;
    reconnecting = false;
  });
  es.addEventListener('error', () => {
    if (es !== stream) return;
    reconnecting = true;
    if (!loaded) page?.load?.().catch(failed); // the data, even without live updates
    loaded = true;
    if (es.readyState === EventSource.CLOSED) {
      // Refused (401, 400) rather than dropped: find out why, then try again.
      setLive('offline');
      getJson('/api/health')
        .then(() => getJson('/api/devices?limit=1'))
        .then(
          () => setTimeout(() => es === stream && connect(devices), 5000),
          (err) => failed(err),
        );
    } else setLive('reconnecting');
  });
  /**
   * @template {keyof StreamEvents} K
   * @param {K} type
   * @param {(data: StreamEvents[K]) => void} fn
   */
  const on = (type, fn) => es.addEventListener(type, (e) => fn(JSON.parse(e.data)));
  on('seen', (d) => store.seen(d.devices));
  on('readings', (d) => store.emit('readings', d));
  on('anomaly', (d) => store.anomalyEvent(d));
  on('health', (d) => store.setHealth(d));
}

function route() {
  page?.destroy();
  const hash = location.hash || '#/';
  const device = /^#\/device\/([^/]+)$/.exec(hash);
  document.querySelectorAll('nav a').forEach((a) => {
    a.classList.toggle(
      'active',
      a.getAttribute('href') === (hash === '#/anomalies' ? '#/anomalies' : '#/'),
    );
  });
  if (device) page = devicePage(view, store, decodeURIComponent(/** @type {string} */ (device[1])));
  else if (hash === '#/anomalies') page = anomaliesPage(view, store);
  else page = overview(view, store);
  window.scrollTo(0, 0);
  const before = stream;
  connect(page.devices);
  // Same stream as before, already open: load the page's data now.
  if (stream === before && stream?.readyState === EventSource.OPEN) page.load?.().catch(failed);
}

function askToken() {
  setLive('locked', 'token needed');
  const note = link?.error
    ? `The link you opened cannot sign you in: ${link.error}.`
    : link
      ? "The token in the link you opened is not this hub's (npm start makes a new one each run)."
      : '';
  tokenNote.textContent = note;
  tokenNote.hidden = !note;
  if (!dialog.open) dialog.showModal();
}

/**
 * A sign-in link (`#token=...`): keeps its token as a pasted one, then takes it out of the
 * address bar and this history entry (nothing to bookmark, share or screenshot by mistake).
 * Without a valid token the form asks, saying why.
 */
function takeLinkToken() {
  link = linkToken(location.hash);
  if (!link) return;
  history.replaceState(history.state, '', location.pathname + location.search);
  if (link.token) setToken(link.token);
}

dialog.addEventListener('close', () => {
  const value = /** @type {HTMLInputElement} */ (dialog.querySelector('input')).value.trim();
  if (dialog.returnValue !== 'connect' || !value) return;
  link = undefined;
  setToken(value);
  reload();
});
forget.addEventListener('click', () => {
  setToken('');
  location.reload();
});

/** With another token: everything again, the stream too. */
function reload() {
  stream?.close();
  stream = undefined;
  loadAll().then(route, failed);
}

// A sign-in link opened in a tab that shows the dashboard already.
window.addEventListener('hashchange', () => {
  if (!linkToken(location.hash)) return route();
  takeLinkToken();
  if (dialog.open) dialog.close('link');
  reload();
});
// Statuses and "last seen" age by themselves; a full refresh now and then corrects drift.
setInterval(() => store.emit('tick'), 5000);
setInterval(() => {
  if (document.visibilityState === 'visible' && stream?.readyState === EventSource.OPEN)
    loadAll().catch(failed);
}, 60_000);

takeLinkToken();
loadAll().then(route, (err) => {
  failed(err);
  if (!(err instanceof AuthError)) route();
});
