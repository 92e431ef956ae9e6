// @ts-check
// Pieces the pages share: status badges, the anomaly table, the pipeline health tiles.
import { clock, dateTime, duration, fill, h, num, sparkline, timeAgo } from './dom.js';

/**
 * @import { Child } from './dom.js'
 * @import { Anomaly, Health, Store } from './store.js'
 * @typedef {[label: string, cell: (a: Anomaly) => Child, cls?: string]} Column
 */

/**
 * @param {string} text
 * @param {string} [kind] the badge's colour (CSS class); default: the text
 */
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** @param {string} id */
export function deviceLink(id) {
  return h('a', { href: `#/device/${encodeURIComponent(id)}` }, id);
}

/**
 * Anomaly episodes, newest first. `withDevice`: a device column; `compact`: the overview's
 * narrow version (no rule, no duration).
 * @param {readonly Anomaly[]} list
 * @param {{ withDevice?: boolean, compact?: boolean, empty?: string }} [options]
 */
export function anomalyTable(
  list,
  { withDevice = true, compact = false, empty = 'No anomalies.' } = {},
) {
  if (list.length === 0) return h('p', { class: 'empty' }, empty);
  /** @type {(Column | false)[]} */
  const all = [
    ['Started', (a) => (compact ? clock(a.start) : dateTime(a.start))],
    withDevice && ['Device', (a) => deviceLink(a.deviceId)],
    ['Metric', (a) => a.metric],
    !compact && ['Rule', (a) => [a.rule, h('small', {}, ` ${a.detector ?? ''}`)]],
    ['Severity', (a) => badge(a.severity)],
    ['State', (a) => badge(a.state, a.state === 'open' ? 'open' : 'closed')],
    ['Peak', (a) => num(a.peakValue, 2), 'num'],
    !compact && ['Duration', (a) => (a.end ? duration(a.end - a.start) : 'ongoing'), 'num'],
  ];
  const cols = all.filter((c) => c !== false);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'anomalies' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          cols.map(([label, , cls]) => h('th', { class: cls }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        list.map((a) =>
          h(
            'tr',
            {
              dataset: { anomaly: a.id, device: a.deviceId },
              title: a.title ?? `${a.rule} (${a.detector})`,
            },
            cols.map(([, cell, cls]) => h('td', { class: cls }, cell(a))),
          ),
        ),
      ),
    ),
  );
}

/**
 * @param {string} label
 * @param {Child} value
 * @param {...Child} extra
 */
function tile(label, value, ...extra) {
  return h(
    'div',
    { class: 'tile' },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value' }, value),
    ...extra,
  );
}

/**
 * Where readings come from and go: Kafka + InfluxDB, or single-box (HTTP ingest, SQLite).
 * @param {Health} hl
 * @param {boolean | null | undefined} kafka
 * @param {boolean | null | undefined} influx
 */
function pipelineText(hl, kafka, influx) {
  const storeName = hl.store?.kind === 'sqlite' ? 'SQLite' : 'InfluxDB';
  const storeOk = hl.store?.ok ?? influx;
  const stored = `${storeName} ${storeOk ? 'ok' : 'down'}`;
  if (hl.mode === 'single-box') return `single-box: HTTP ingest · ${stored}`;
  return `Kafka ${kafka ? 'connected' : 'down'} · ${stored}`;
}

/**
 * Pipeline status, throughput, consumer lag, gateway backlog, fleet counts.
 * @param {HTMLElement} el
 * @param {Store} store
 */
export function renderHealth(el, store) {
  /** @type {Health} */
  const hl = store.health ?? {};
  const devices = [...store.devices.values()];
  const now = Date.now();
  const counts = { ok: 0, anomalous: 0, offline: 0 };
  for (const d of devices) counts[store.status(d, now)] += 1;
  const lag = hl.lag ?? {};
  const lagTotal = hl.lagTotal ?? Object.values(lag).reduce((a, b) => a + b, 0);
  const backlog = store.gateways.reduce((a, g) => a + (g.backlogRows ?? 0), 0);
  const kafka = hl.kafkaConnected ?? hl.kafka?.connected;
  const influx = hl.influxOk ?? hl.influx?.ok;
  fill(
    el,
    tile(
      'Pipeline',
      badge(hl.status ?? '…', hl.status === 'ok' ? 'ok' : 'degraded'),
      h('div', { class: 'tile-sub' }, pipelineText(hl, kafka, influx)),
    ),
    tile(
      'Throughput',
      h(
        'span',
        { id: 'throughput' },
        hl.readingsPerSec === undefined || hl.readingsPerSec === null
          ? '–'
          : num(hl.readingsPerSec),
      ),
      h('small', {}, ' readings/s'),
      sparkline(store.rates),
    ),
    tile(
      'Consumer lag',
      h('span', { id: 'lag' }, num(lagTotal, 0)),
      h('small', {}, ' records'),
      h(
        'div',
        { class: 'tile-sub' },
        Object.keys(lag).length === 0
          ? 'no partition yet'
          : Object.entries(lag)
              .map(([p, n]) => `p${p}: ${n}`)
              .join(' · '),
      ),
    ),
    tile(
      'Gateway backlog',
      h('span', { id: 'backlog' }, num(backlog, 0)),
      h('small', {}, ' readings'),
      h(
        'div',
        { class: 'tile-sub' },
        store.gateways.length === 0
          ? 'no gateway status in 24 h'
          : store.gateways.map((g) =>
              h(
                'div',
                { dataset: { gateway: g.gatewayId } },
                `${g.gatewayId}: ${num(g.backlogRows ?? 0, 0)}`,
                g.backlogAgeMs ? ` (oldest ${duration(g.backlogAgeMs)})` : '',
                g.kafkaConnected === false ? ' · Kafka down' : '',
                ` · ${timeAgo(g.time, now)}`,
              ),
            ),
      ),
    ),
    tile(
      'Devices',
      h('span', { id: 'device-count' }, String(devices.length)),
      h(
        'div',
        { class: 'tile-sub' },
        `${counts.ok} ok · ${counts.anomalous} anomalous · ${counts.offline} offline`,
      ),
    ),
  );
}
