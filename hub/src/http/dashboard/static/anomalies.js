// @ts-check
// Every anomaly episode that started in the last 24 hours, newest first, with a filter.
import { fill, h } from './dom.js';
import { anomalyTable } from './widgets.js';

/**
 * @import { Page } from './app.js'
 * @import { Store } from './store.js'
 */

/**
 * @param {HTMLElement} view
 * @param {Store} store
 * @returns {Page}
 */
export function anomaliesPage(view, store) {
  const list = h('div', { id: 'all-anomalies' });
  const filter = { severity: '', state: '' };
  /**
   * @param {keyof typeof filter} key
   * @param {[value: string, label: string][]} options
   */
  const select = (key, options) =>
    h(
      'select',
      {
        'aria-label': key,
        onchange: (e) => {
          filter[key] = /** @type {HTMLSelectElement} */ (e.target).value;
          render();
        },
      },
      options.map(([value, label]) => h('option', { value }, label)),
    );
  fill(
    view,
    h(
      'section',
      { class: 'card' },
      h(
        'h2',
        {},
        'Anomalies · last 24 h ',
        select('severity', [
          ['', 'any severity'],
          ['critical', 'critical'],
          ['warning', 'warning'],
          ['info', 'info'],
        ]),
        ' ',
        select('state', [
          ['', 'open or closed'],
          ['open', 'open'],
          ['closed', 'closed'],
        ]),
      ),
      list,
    ),
  );
  const render = () =>
    fill(
      list,
      anomalyTable(
        store
          .anomalyList()
          .filter(
            (a) =>
              (!filter.severity || a.severity === filter.severity) &&
              (!filter.state || a.state === filter.state),
          ),
        { empty: 'No anomalies match.' },
      ),
    );
  const off = store.on((...[kind]) => {
    if (kind === 'anomalies') render();
  });
  render();
  return { devices: [], destroy: off };
}
