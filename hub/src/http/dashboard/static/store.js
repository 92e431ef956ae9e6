// The page's state: devices, anomaly episodes, pipeline health. Filled from the REST API and
// kept current by the stream's events; views listen for changes.
import { toMs } from './dom.js';

/** As the REST API: a device is offline after 10 minutes without a reading. */
const OFFLINE_AFTER_MS = 10 * 60_000;
/** Throughput samples kept for the sparkline (2 s apart: 5 minutes). */
const RATE_SAMPLES = 150;

export class Store {
  devices = new Map();
  anomalies = new Map();
  /** The last health snapshot: the stream's `health` event, or /api/health at first. */
  health = null;
  gateways = [];
  rates = [];
  listeners = new Set();

  /** fn(kind) with kind 'devices' | 'anomalies' | 'health' | 'readings' | 'tick'. */
  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(kind, data) {
    for (const fn of this.listeners) fn(kind, data);
  }

  status(d, now = Date.now()) {
    if (d.openAnomalies > 0) return 'anomalous';
    return now - d.lastSeen > OFFLINE_AFTER_MS ? 'offline' : 'ok';
  }

  /** GET /api/devices: the authoritative list. */
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

  /** The stream's `seen` event. */
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

  /** GET /api/anomalies rows. */
  setAnomalies(rows) {
    for (const a of rows) this.mergeAnomaly(normalise(a));
    this.emit('anomalies');
  }

  /** The stream's `anomaly` event: an episode opened, updated, re-notified or closed. */
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

  mergeAnomaly(a) {
    const known = this.anomalies.get(a.id);
    // An episode never reopens: closed wins over a stale open.
    if (known?.state === 'closed' && a.state !== 'closed') return;
    this.anomalies.set(a.id, { ...known, ...a, title: a.title ?? known?.title });
  }

  /** Newest first; optionally one device's. */
  anomalyList(deviceId) {
    const all = [...this.anomalies.values()].filter((a) => !deviceId || a.deviceId === deviceId);
    return all.sort((x, y) => y.start - x.start);
  }

  /** GET /api/health (no rates) or the stream's `health` event. */
  setHealth(h) {
    this.health = { ...this.health, ...h };
    if (h.gateways) this.gateways = h.gateways;
    if ('readingsPerSec' in h) {
      this.rates.push(h.readingsPerSec);
      if (this.rates.length > RATE_SAMPLES) this.rates.shift();
    }
    this.emit('health');
  }

  /** GET /api/gateways. */
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
