// @ts-check
/// <reference types="uplot" />
// One metric of one device over the last hour: a uPlot line (uPlot is loaded by index.html as
// a classic script from the hub's node_modules) with anomaly episodes drawn as shaded bands
// and their peaks as dots. Points arrive in any order and more than once; they are merged.
import { h, num } from './dom.js';

/**
 * @import { Anomaly } from './store.js'
 * @typedef {Pick<Anomaly, 'start' | 'end' | 'severity' | 'peakTime' | 'peakValue' | 'state'>} Band
 */

const WINDOW_MS = 3_600_000;
const MAX_POINTS = 20_000;
/** @type {{ [severity: string]: string | undefined, warning: string }} */
const COLOURS = { critical: '220, 38, 38', warning: '234, 138, 0', info: '37, 99, 235' };

export class MetricChart {
  /**
   * Epoch seconds (uPlot's time unit) and values, sorted by time, no repeats.
   * @type {number[]}
   */
  xs = [];
  /** @type {number[]} */
  ys = [];
  /** @type {readonly Band[]} */
  bands = [];
  pending = false;

  /**
   * @param {HTMLElement} parent
   * @param {string} metric
   * @param {string | undefined} unit
   */
  constructor(parent, metric, unit) {
    this.metric = metric;
    this.unit = unit ?? '';
    this.last = h('span', { class: 'chart-last' }, '–');
    this.plotEl = h('div', { class: 'chart-plot' });
    this.el = h(
      'section',
      { class: 'card chart', dataset: { metric, points: '0', bands: '0' } },
      h(
        'header',
        {},
        h('h3', {}, metric, this.unit ? h('small', {}, ` ${this.unit}`) : null),
        this.last,
      ),
      this.plotEl,
    );
    // Charts stay in metric-name order whatever order the metrics show up in.
    const charts = /** @type {HTMLElement[]} */ ([...parent.children]);
    const after = charts.find((c) => /** @type {string} */ (c.dataset.metric) > metric);
    parent.insertBefore(this.el, after ?? null);
    this.plot = new uPlot(this.options(), [this.xs, this.ys], this.plotEl);
    this.resizer = new ResizeObserver(() => {
      const width = this.width();
      if (width !== this.plot.width) this.plot.setSize({ width, height: 220 });
    });
    this.resizer.observe(this.plotEl);
  }

  width() {
    return Math.max(280, Math.floor(this.plotEl.clientWidth) || 600);
  }

  /** @returns {uPlot.Options} */
  options() {
    const unit = this.unit;
    return {
      width: this.width(),
      height: 220,
      scales: { x: { time: true } },
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        {},
        {
          label: this.metric,
          stroke: '#2563eb',
          width: 1.5,
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '–' : `${num(v, 2)} ${unit}`),
        },
      ],
      axes: [
        { stroke: '#64748b', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#e2e8f0' } },
        { stroke: '#64748b', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#e2e8f0' }, size: 56 },
      ],
      hooks: { draw: [(u) => this.drawBands(u)] },
    };
  }

  /**
   * [[timeMs, value], ...] in any order.
   * @param {readonly [number, number][]} points
   */
  add(points) {
    for (const [t, v] of points) this.insert(t / 1000, v);
    const newest = this.xs.at(-1);
    if (newest !== undefined) {
      const oldest = newest - WINDOW_MS / 1000;
      let drop = 0;
      while (drop < this.xs.length && /** @type {number} */ (this.xs[drop]) < oldest) drop += 1;
      drop = Math.max(drop, this.xs.length - MAX_POINTS);
      if (drop > 0) {
        this.xs.splice(0, drop);
        this.ys.splice(0, drop);
      }
    }
    this.schedule();
  }

  /**
   * @param {number} x
   * @param {number} y
   */
  insert(x, y) {
    const xs = this.xs;
    const last = xs.at(-1);
    if (last === undefined || x > last) {
      xs.push(x);
      this.ys.push(y);
      return;
    }
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (/** @type {number} */ (xs[mid]) < x) lo = mid + 1;
      else hi = mid;
    }
    if (xs[lo] === x) this.ys[lo] = y;
    else {
      xs.splice(lo, 0, x);
      this.ys.splice(lo, 0, y);
    }
  }

  /**
   * Episodes of this metric: { start, end|null, severity, peakTime, peakValue, state }.
   * @param {readonly Band[]} episodes
   */
  setBands(episodes) {
    this.bands = episodes;
    this.el.dataset.bands = String(episodes.length);
    this.schedule();
  }

  /** One redraw per frame however many points arrive. */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot.setData([this.xs, this.ys]);
      this.el.dataset.points = String(this.xs.length);
      const v = this.ys.at(-1);
      this.last.textContent = v === undefined ? '–' : `${num(v, 2)} ${this.unit}`;
    });
  }

  /** @param {uPlot} u */
  drawBands(u) {
    if (this.bands.length === 0 || this.xs.length === 0) return;
    const { ctx, bbox } = u;
    const nowS = Date.now() / 1000;
    const newest = /** @type {number} */ (this.xs.at(-1)); // not empty, see above
    ctx.save();
    ctx.beginPath();
    ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
    ctx.clip();
    for (const b of this.bands) {
      const rgb = COLOURS[b.severity] ?? COLOURS.warning;
      const x0 = u.valToPos(b.start / 1000, 'x', true);
      const endS = b.end ? b.end / 1000 : Math.max(nowS, newest);
      // An episode as short as one reading still gets a visible band.
      const x1 = Math.max(u.valToPos(endS, 'x', true), x0 + 3 * devicePixelRatio);
      ctx.fillStyle = `rgba(${rgb}, ${b.state === 'open' ? 0.2 : 0.12})`;
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
      if (b.peakTime && b.peakValue !== null && b.peakValue !== undefined) {
        ctx.fillStyle = `rgb(${rgb})`;
        ctx.beginPath();
        const px = u.valToPos(b.peakTime / 1000, 'x', true);
        const py = u.valToPos(b.peakValue, 'y', true);
        ctx.arc(px, py, 4 * devicePixelRatio, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  destroy() {
    this.resizer.disconnect();
    this.plot.destroy();
    this.el.remove();
  }
}
