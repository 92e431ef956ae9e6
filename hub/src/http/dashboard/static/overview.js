// @ts-check
// The fleet overview: pipeline health, every device with its status, the latest anomalies.
import { fill, h, timeAgo } from './dom.js';
import { anomalyTable, badge, deviceLink, renderHealth } from './widgets.js';

/**
 * @import { Page } from './app.js'
 * @import { ChangeKind, Store } from './store.js'
 */

const LATEST = 8;

/**
 * @param {HTMLElement} view
 * @param {Store} store
 * @returns {Page}
 */
export function overview(view, store) {
  const tiles = h('div', { class: 'tiles', id: 'health' });
  const fleet = h('div', { id: 'fleet' });
  const fleetTitle = h('h2', {}, 'Fleet');
  const latest = h('div', { id: 'latest-anomalies' });
  fill(
    view,
    tiles,
    h(
      'div',
      { class: 'columns' },
      h('section', { class: 'card' }, fleetTitle, fleet),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Anomalies ', h('a', { href: '#/anomalies', class: 'more' }, 'all →')),
        latest,
      ),
    ),
  );

  const renderFleet = () => {
    const now = Date.now();
    const devices = [...store.devices.values()].sort((a, b) =>
      a.deviceId.localeCompare(b.deviceId),
    );
    fleetTitle.textContent = `Fleet · ${devices.length} device${devices.length === 1 ? '' : 's'}`;
    if (devices.length === 0)
      return fill(
        fleet,
        h('p', { class: 'empty' }, 'No device has sent a reading in the last 30 days.'),
      );
    fill(
      fleet,
      h(
        'table',
        { class: 'fleet' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Device'),
            h('th', {}, 'Status'),
            h('th', {}, 'Last seen'),
            h('th', {}, 'Gateway'),
            h('th', { class: 'num' }, 'Open anomalies'),
          ),
        ),
        h(
          'tbody',
          {},
          devices.map((d) => {
            const status = store.status(d, now);
            return h(
              'tr',
              {
                dataset: { device: d.deviceId, status },
                class: 'clickable',
                onclick: () => (location.hash = `#/device/${encodeURIComponent(d.deviceId)}`),
              },
              h('td', {}, deviceLink(d.deviceId)),
              h('td', {}, badge(status)),
              h('td', { title: new Date(d.lastSeen).toISOString() }, timeAgo(d.lastSeen, now)),
              h('td', {}, d.gateway ?? '–'),
              h('td', { class: 'num' }, String(d.openAnomalies)),
            );
          }),
        ),
      ),
    );
  };
  const renderLatest = () =>
    fill(
      latest,
      anomalyTable(store.anomalyList().slice(0, LATEST), {
        compact: true,
        empty: 'No anomalies in the last 24 hours.',
      }),
    );

  let frame = 0;
  /** @type {Set<ChangeKind>} */
  const dirty = new Set();
  /** @param {ChangeKind} kind */
  const render = (kind) => {
    dirty.add(kind);
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (dirty.has('devices') || dirty.has('tick')) renderFleet();
      if (dirty.has('anomalies')) renderLatest();
      renderHealth(tiles, store);
      dirty.clear();
    });
  };
  const off = store.on((...[kind]) => {
    if (kind !== 'readings') render(kind);
  });
  renderFleet();
  renderLatest();
  renderHealth(tiles, store);
  return {
    devices: [],
    destroy() {
      off();
      cancelAnimationFrame(frame);
    },
  };
}
