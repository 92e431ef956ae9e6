// @ts-check
// One device: a live chart per metric over the last hour with its anomaly episodes marked,
// and the device's anomaly list.
import { getJson } from './api.js';
import { MetricChart } from './chart.js';
import { fill, h, timeAgo } from './dom.js';
import { anomalyTable, badge } from './widgets.js';

/**
 * @import { Page } from './app.js'
 * @import { Store } from './store.js'
 * @import { LiveReading } from '../pipeline-feed.ts'
 * @typedef {Omit<LiveReading, 'time'> & { time: number | string }} ReadingIn
 */

const HOUR = 3_600_000;
const RAW_LIMIT = 5000;

/**
 * @param {HTMLElement} view
 * @param {Store} store
 * @param {string} deviceId
 * @returns {Page}
 */
export function devicePage(view, store, deviceId) {
  /** @type {Map<string, MetricChart>} */
  const charts = new Map();
  const info = h('div', { class: 'device-info' });
  const chartsEl = h('div', { class: 'charts', id: 'charts' });
  const anomaliesEl = h('div', { id: 'device-anomalies' });
  const empty = h('p', { class: 'empty' }, 'Loading readings…');
  fill(
    view,
    h('div', { class: 'crumbs' }, h('a', { href: '#/' }, '← Fleet')),
    h('h1', { id: 'device-title' }, deviceId),
    info,
    empty,
    chartsEl,
    h('section', { class: 'card' }, h('h2', {}, 'Anomalies of this device (24 h)'), anomaliesEl),
  );

  /**
   * @param {string} metric
   * @param {string | undefined} unit
   */
  const chartOf = (metric, unit) => {
    let c = charts.get(metric);
    if (!c) {
      c = new MetricChart(chartsEl, metric, unit);
      charts.set(metric, c);
      c.setBands(bandsOf(metric));
      empty.remove();
    }
    return c;
  };
  /** @param {string} metric */
  const bandsOf = (metric) => store.anomalyList(deviceId).filter((a) => a.metric === metric);

  /**
   * Readings as the REST API or the stream give them: { time, metrics: { m: { value, unit } } }.
   * @param {readonly ReadingIn[]} readings
   */
  const addReadings = (readings) => {
    /** @type {Map<string, { unit: string | undefined, points: [number, number][] }>} */
    const byMetric = new Map();
    for (const r of readings) {
      const t = typeof r.time === 'number' ? r.time : Date.parse(r.time);
      for (const [m, { value, unit }] of Object.entries(r.metrics)) {
        let entry = byMetric.get(m);
        if (!entry) {
          entry = { unit, points: [] };
          byMetric.set(m, entry);
        }
        entry.points.push([t, value]);
      }
    }
    for (const [m, { unit, points }] of byMetric) chartOf(m, unit).add(points);
  };

  const renderInfo = () => {
    const d = store.devices.get(deviceId);
    if (!d) return fill(info, h('span', { class: 'muted' }, 'not seen in the last 30 days'));
    const status = store.status(d);
    fill(
      info,
      badge(status),
      h('span', {}, `last seen ${timeAgo(d.lastSeen)}`),
      h('span', {}, `gateway ${d.gateway ?? '–'}`),
      h('span', {}, `${d.openAnomalies} open anomal${d.openAnomalies === 1 ? 'y' : 'ies'}`),
    );
  };
  const renderAnomalies = () => {
    fill(
      anomaliesEl,
      anomalyTable(store.anomalyList(deviceId), {
        withDevice: false,
        empty: 'None in the last 24 hours.',
      }),
    );
    for (const [m, c] of charts) c.setBands(bandsOf(m));
  };

  const off = store.on((...[kind, data]) => {
    if (kind === 'readings' && data.deviceId === deviceId) addReadings(data.readings);
    else if (kind === 'anomalies') renderAnomalies();
    else if (kind === 'devices' || kind === 'tick') renderInfo();
  });
  renderInfo();
  renderAnomalies();

  const id = encodeURIComponent(deviceId);
  return {
    devices: [deviceId],
    /** The last hour of readings (bucketed when there are too many) and the device's episodes. */
    async load() {
      const to = Date.now();
      const range = `from=${to - HOUR}&to=${to}`;
      const [raw, episodes] = await Promise.all([
        getJson(`/api/devices/${id}/readings?${range}&limit=${RAW_LIMIT}`),
        getJson(`/api/anomalies?device=${id}&limit=500`),
      ]);
      store.setAnomalies(episodes.anomalies);
      if (!raw.truncated) addReadings(raw.readings ?? []);
      else {
        const agg = await getJson(
          `/api/devices/${id}/readings?${range}&every=5s&fn=mean&limit=10000`,
        );
        addReadings(
          (agg.points ?? []).map((p) => ({
            time: p.time,
            metrics: { [p.metric]: { value: p.value } },
          })),
        );
      }
      if (charts.size === 0) empty.textContent = 'No readings in the last hour.';
    },
    destroy() {
      off();
      for (const c of charts.values()) c.destroy();
    },
  };
}
