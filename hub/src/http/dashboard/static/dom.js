// @ts-check
// Tiny DOM and formatting helpers. Text always goes in as text nodes, never as HTML.

/**
 * Attributes for `h`: `on<event>` takes a listener, `dataset` the data-* attributes; any other
 * value is set as text (true: present and empty; false, null, undefined: left out).
 * @typedef {Record<string, AttrValue>} Attrs
 * @typedef {string | number | boolean | null | undefined | Record<string, string>
 *   | ((e: Event) => unknown)} AttrValue
 */
/**
 * A child for `h` and `fill`: a node, text, nothing (null, undefined, false), or one level of
 * array of those.
 * @typedef {Node | string | null | undefined | false} Leaf
 * @typedef {Leaf | readonly Leaf[]} Child
 */

/**
 * h('a', { href: '#/', class: 'x' }, 'text', child) -> element. `on*` attributes taking a
 * function become listeners; `dataset` sets data-* attributes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {readonly Child[]} children
 */
function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replaces an element's children.
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * A sparkline of the values (nulls left out), scaled to its own maximum.
 * @param {readonly (number | null | undefined)[]} samples
 */
export function sparkline(samples, width = 160, height = 32) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('preserveAspectRatio', 'none');
  const values = samples.filter((v) => v !== null && v !== undefined);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const y = (/** @type {number} */ v) => (height - 2 - (v / max) * (height - 4)).toFixed(1);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', values.map((v, i) => `${(i * step).toFixed(1)},${y(v)}`).join(' '));
  svg.append(line);
  return svg;
}

/** @param {number | null | undefined} ms epoch ms */
export function timeAgo(ms, now = Date.now()) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 3) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** @param {number} ms epoch ms */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** @param {number} ms epoch ms */
export function dateTime(ms) {
  const d = new Date(ms);
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${clock(ms)}`;
}

/** @param {number | null | undefined} v */
export function num(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString();
  return Number(v.toFixed(digits)).toString();
}

/** @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * REST times are ISO strings, stream times epoch ms.
 * @overload
 * @param {string | number} t
 * @returns {number}
 */
/**
 * @overload
 * @param {string | number | null | undefined} t
 * @returns {number | null}
 */
/**
 * @param {string | number | null | undefined} t
 * @returns {number | null}
 */
export function toMs(t) {
  if (t === null || t === undefined) return null;
  return typeof t === 'number' ? t : Date.parse(t);
}
