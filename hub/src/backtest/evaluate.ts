import type { Rule } from '../detect/rules.ts';
import { Backtest } from './backtest.ts';

/** A run of consecutive readings labelled 1: one incident. */
export interface Incident {
  start: number;
  end: number;
  /** Row numbers (0-based, among scored readings) of its first and last reading. */
  firstRow: number;
  lastRow: number;
  /** The first alert during it (or within the grace after it), if any. */
  caughtAt?: { time: number; row: number };
}

export interface EvaluationReport {
  readings: number;
  labelled: number;
  incidents: Incident[];
  caught: number;
  alerts: number;
  /** Alerts outside every incident (and its grace): what a user would call a false alarm. */
  falseAlerts: number;
  falseAlertsPer1000: number;
  /** Of caught incidents: readings from the start to the first alert, and that as a fraction of the incident. */
  delays: { readings: number; ms: number; fraction: number }[];
}

/**
 * Scores rules against a labelled series the way a user meets them live: an alert is an
 * episode opening (a notification); an incident is caught when an alert falls inside it or
 * within `graceReadings` after its end. Labels are only read here, never by the detectors.
 */
export class Evaluation {
  private readonly backtest: Backtest;
  private readonly rows: { time: number; label: boolean; alert: boolean }[] = [];

  constructor(
    rules: readonly Rule[],
    private readonly graceReadings = 0,
  ) {
    this.backtest = new Backtest(rules, 'episode');
  }

  /** false: the reading is older than the previous one and, as live, not scored. */
  add(time: number, value: number, label: boolean): boolean {
    const r = this.backtest.score(time, value);
    if (r === undefined) return false;
    this.rows.push({ time, label, alert: r.opened > 0 });
    return true;
  }

  report(): EvaluationReport {
    const rows = this.rows;
    const incidents: Incident[] = [];
    for (let i = 0; i < rows.length; i += 1) {
      const row = rows[i] as (typeof rows)[number];
      if (!row.label) continue;
      const last = incidents.at(-1);
      if (last !== undefined && last.lastRow === i - 1) {
        last.lastRow = i;
        last.end = row.time;
      } else incidents.push({ start: row.time, end: row.time, firstRow: i, lastRow: i });
    }
    let alerts = 0;
    let falseAlerts = 0;
    let k = 0; // the first incident that may still contain row i
    for (let i = 0; i < rows.length; i += 1) {
      if (!(rows[i] as (typeof rows)[number]).alert) continue;
      alerts += 1;
      while (k < incidents.length && (incidents[k] as Incident).lastRow + this.graceReadings < i)
        k += 1;
      const inc = incidents[k];
      if (inc === undefined || i < inc.firstRow) {
        falseAlerts += 1;
        continue;
      }
      inc.caughtAt ??= { time: (rows[i] as (typeof rows)[number]).time, row: i };
    }
    const caught = incidents.filter((i) => i.caughtAt !== undefined);
    return {
      readings: rows.length,
      labelled: rows.filter((r) => r.label).length,
      incidents,
      caught: caught.length,
      alerts,
      falseAlerts,
      falseAlertsPer1000: rows.length === 0 ? 0 : (1000 * falseAlerts) / rows.length,
      delays: caught.map((i) => {
        const at = i.caughtAt as { time: number; row: number };
        const readings = at.row - i.firstRow;
        return {
          readings,
          ms: at.time - i.start,
          fraction: readings / (i.lastRow - i.firstRow + 1),
        };
      }),
    };
  }
}
