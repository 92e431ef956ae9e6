// @ts-check
// The page's state: devices, anomaly episodes, pipeline health. Filled from the REST API and
// kept current by the stream's events; views listen for changes.
import { toMs } from './dom.js';

/**
 * @import { HealthBody } from '../../api/app.ts'
 * @import { DevicesAnswer } from '../../api/routes-devices.ts'
 * @import { AnomaliesAnswer, GatewaysAnswer } from '../../api/routes-misc.ts'
 * @import { StreamEvents } from '../plugin.ts'
 * @import { LiveHealth } from '../health-ticker.ts'
 */
/**
 * A device as the page keeps it: from GET /api/devices, or first seen on the stream (`live`).
 * @typedef {object} Device
 * @property {string} deviceId
 * @property {string | null} gateway
 * @property {number} lastSeen epoch ms
 * @property {number} openAnomalies
 * @property {true} [live] seen on the stream, not (yet) in the REST list
 */
/** @typedef {DevicesAnswer['devices'][number]['status']} DeviceStatus */
/**
 * An anomaly episode as GET /api/anomalies or the stream's `anomaly` event gives it.
 * @typedef {object} EpisodeIn
 * @property {string} id
 * @property {string} deviceId
 * @property {string} metric
 * @property {string} rule
 * @property {string} detector
 * @property {string} severity
 * @property {string} state `open` or `closed`
 * @property {string | number} start
 * @property {string | number | null} end
 * @property {number} peakScore
 * @property {string | number | null} peakTime
 * @property {number | null} peakValue
 * @property {string} [title]
 */
/**
 * An anomaly episode as the page keeps it (times in epoch ms).
 * @typedef {Omit<EpisodeIn, 'start' | 'end' | 'peakTime'>
 *   & { start: number, end: number | null, peakTime: number | null }} Anomaly
 */
/**
 * Pipeline health: the stream's `health` event, or what the page keeps of GET /api/health
 * before the first one (`kafka`, `influx`; no rates).
 * @typedef {Partial<LiveHealth> & { kafka?: HealthBody['kafka'], influx?: HealthBody['influx'] }} Health
 */
/** @typedef {LiveHealth['gateways'][number]} Gateway */
/**
 * What changed, with the event that changed it. Listeners take it as `(...[kind, data])`, so
 * that testing `kind` narrows `data` (TypeScript does not narrow across plain parameters
 * `(kind, data)` when the tuples differ in length).
 * @typedef {[kind: 'devices', data?: undefined]
 *   | [kind: 'anomalies', data?: StreamEvents['anomaly']]
 *   | [kind: 'health', data?: undefined]
 *   | [kind: 'readings', data: StreamEvents['readings']]
 *   | [kind: 'tick', data?: undefined]} Change
 * @typedef {Change[0]} ChangeKind
 * @typedef {(...change: Change) => void} Listener
 */

/** As the REST API: a device is offline after 10 minutes without a reading. */
const OFFLINE_AFTER_MS = 10 * 60_000;
/** Throughput samples kept for the sparkline (2 s apart: 5 minutes). */
const RATE_SAMPLES = 150;

export class Store {
  /** @type {Map<string, Device>} */
  devices = new Map();
  /** @type {Map<string, Anomaly>} */
  anomalies = new Map();
  /**
   * The last health snapshot: the stream's `health` event, or /api/health at first.
   * @type {Health | null}
   */
  health = null;
  /** @type {Gateway[]} */
  gateways = [];
  /** @type {(number | null | undefined)[]} */
  rates = [];
  /** @type {Set<Listener>} */
  listeners = new Set();

  /**
   * fn(kind) with kind 'devices' | 'anomalies' | 'health' | 'readings' | 'tick'.
   * @param {Listener} fn
   */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @param {Change} change */
  emit(...change) {
    for (const fn of this.listeners) fn(...change);
  }

  /**
   * @param {Device} d
   * @returns {DeviceStatus}
   */
  status(d, now = Date.now()) {
    if (d.openAnomalies > 0) return 'anomalous';
    return now - d.lastSeen > OFFLINE_AFTER_MS ? 'offline' : 'ok';
  }

  /**
   * GET /api/devices: the authoritative list.
   * @param {DevicesAnswer['devices']} list
   */
  setDevices(list) {
    const next = new Map();
    for (const d of list) {
      const known = this.devices.get(d.deviceId);
      const lastSeen = Math.max(toMs(d.lastSeen), known?.lastSeen ?? 0);
      next.set(d.deviceId, { ...d, lastSeen, openAnomalies: d.openAnomalies });
    }
    // Devices that appeared on the stream after the query started stay.
    for (const [id, d] of this.devices) if (!next.has(id) && d.live) next.set(id, d);
    this.devices = next;
    this.emit('devices');
  }

  /**
   * The stream's `seen` event.
   * @param {StreamEvents['seen']['devices']} devices
   */
  seen(devices) {
    for (const s of devices) {
      const d = this.devices.get(s.deviceId);
      if (d) {
        if (s.lastSeen >= d.lastSeen) {
          d.lastSeen = s.lastSeen;
          d.gateway = s.gateway;
        }
      } else
        this.devices.set(s.deviceId, {
          deviceId: s.deviceId,
          gateway: s.gateway,
          lastSeen: s.lastSeen,
          openAnomalies: 0,
          live: true,
        });
    }
    this.emit('devices');
  }

  /**
   * GET /api/anomalies rows.
   * @param {AnomaliesAnswer['anomalies']} rows
   */
  setAnomalies(rows) {
    for (const a of rows) this.mergeAnomaly(normalise(a));
    this.emit('anomalies');
  }

  /**
   * The stream's `anomaly` event: an episode opened, updated, re-notified or closed.
   * @param {StreamEvents['anomaly']} ev
   */
  anomalyEvent(ev) {
    const e = ev.episode;
    const known = this.anomalies.get(e.id);
    const state = ev.type === 'closed' ? 'closed' : 'open';
    const d = this.devices.get(e.deviceId);
    if (d && !known && state === 'open') d.openAnomalies += 1;
    if (d && known?.state === 'open' && state === 'closed')
      d.openAnomalies = Math.max(0, d.openAnomalies - 1);
    this.mergeAnomaly(
      normalise({
        ...e,
        rule: e.ruleId,
        state,
        end: ev.type === 'closed' ? (e.end ?? ev.time) : e.end,
      }),
    );
    this.emit('anomalies', ev);
    this.emit('devices');
  }

  /** @param {Anomaly} a */
  mergeAnomaly(a) {
    const known = this.anomalies.get(a.id);
    // An episode never reopens: closed wins over a stale open.
    if (known?.state === 'closed' && a.state !== 'closed') return;
    this.anomalies.set(a.id, { ...known, ...a, title: a.title ?? known?.title });
  }

  /**
   * Newest first; optionally one device's.
   * @param {string} [deviceId]
   */
  anomalyList(deviceId) {
    const all = [...this.anomalies.values()].filter((a) => !deviceId || a.deviceId === deviceId);
    return all.sort((x, y) => y.start - x.start);
  }

  /**
   * GET /api/health (no rates) or the stream's `health` event.
   * @param {Health} h
   */
  setHealth(h) {
    this.health = { ...this.health, ...h };
    if (h.gateways) this.gateways = h.gateways;
    if ('readingsPerSec' in h) {
      this.rates.push(h.readingsPerSec);
      if (this.rates.length > RATE_SAMPLES) this.rates.shift();
    }
    this.emit('health');
  }

  /**
   * GET /api/gateways.
   * @param {GatewaysAnswer['gateways']} list
   */
  setGateways(list) {
    this.gateways = list.map((g) => ({
      gatewayId: g.gatewayId,
      time: toMs(g.time),
      kafkaConnected: g.kafkaConnected,
      backlogRows: g.backlogRows,
      backlogAgeMs: g.oldestReceivedAt ? toMs(g.time) - toMs(g.oldestReceivedAt) : null,
    }));
    this.emit('health');
  }
}

/**
 * @param {EpisodeIn} a
 * @returns {Anomaly}
 */
function normalise(a) {
  return {
    id: a.id,
    deviceId: a.deviceId,
    metric: a.metric,
    rule: a.rule,
    detector: a.detector,
    severity: a.severity,
    state: a.state,
    start: toMs(a.start),
    end: toMs(a.end),
    peakScore: a.peakScore,
    peakTime: toMs(a.peakTime),
    peakValue: a.peakValue,
    title: a.title,
  };
}
