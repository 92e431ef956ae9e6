import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allPanels,
  annotationsOf,
  currentValues,
  customValues,
  DASHBOARD_DIR,
  DASHBOARDS,
  DATASOURCE,
  type DashboardJson,
  dashboardFiles,
  targetsOf,
  variablesOf,
} from './dashboards.ts';
import { FUNCTION_COLUMNS, HUB_SCHEMA } from './hub-schema.ts';
import {
  aliases,
  depthZero,
  groupByTags,
  groupsByTime,
  identifiers,
  measurements,
  selectedColumns,
} from './influxql.ts';
import { ALL, referencedVariables } from './macros.ts';

// Structural checks of every dashboard, no server needed. The JSON files are also typed against
// @grafana/schema at compile time (dashboards.ts, `npm run typecheck`); here are the checks a
// type cannot make: literal values, uniqueness, references, and the queries against the hub's
// InfluxDB schema.

/** Grafana's own macros for InfluxQL (backend) and its global variables (frontend). */
const MACROS = new Set(['timeFilter', '__interval', 'interval', '__interval_ms', '__from', '__to']);
const PANEL_TYPES = new Set(['timeseries', 'stat', 'table', 'bargauge', 'state-timeline', 'row']);
const VARIABLE_TYPES = new Set(['query', 'custom', 'constant', 'interval', 'textbox']);
const GRID_COLUMNS = 24;

const entries = Object.entries(DASHBOARDS);

/** Every InfluxQL text of a dashboard with where it comes from. */
function queriesOf(d: DashboardJson): { where: string; query: string; panel: boolean }[] {
  const out: { where: string; query: string; panel: boolean }[] = [];
  for (const p of allPanels(d))
    for (const t of targetsOf(p))
      out.push({
        where: `panel ${p.id} "${p.title}" ${t.refId}`,
        query: t.query ?? '',
        panel: true,
      });
  for (const a of annotationsOf(d))
    out.push({ where: `annotation "${a.name}"`, query: a.target?.query ?? '', panel: false });
  for (const v of variablesOf(d))
    if (v.type === 'query')
      out.push({ where: `variable ${v.name}`, query: String(v.query ?? ''), panel: false });
  return out;
}

describe('grafana/dashboards', () => {
  it('every file is valid JSON and typed in dashboards.ts', () => {
    expect(dashboardFiles()).toEqual(Object.keys(DASHBOARDS).sort());
    for (const file of dashboardFiles()) {
      const parsed: unknown = JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8'));
      expect(parsed, file).toEqual(DASHBOARDS[file]);
    }
  });

  it('dashboards have unique uids, a title, a schema version and the iot-stream tag', () => {
    const uids = entries.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [file, d] of entries) {
      expect(d.uid, file).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(d.title, file).toBeTruthy();
      expect(d.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(d.tags, file).toContain('iot-stream');
      expect(d.time?.from, file).toMatch(/^now-\d+[smhd]$/);
    }
  });

  it.each(entries)('%s: panels have unique ids, a known type and a place on the grid', (_, d) => {
    const panels = allPanels(d);
    expect(panels.length).toBeGreaterThan(0);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes: { id: number; x: number; y: number; w: number; h: number }[] = [];
    for (const p of panels) {
      expect(PANEL_TYPES, `panel ${p.id} type ${p.type}`).toContain(p.type);
      expect(p.title, `panel ${p.id}`).toBeTruthy();
      const g = p.gridPos;
      expect(g, `panel ${p.id} gridPos`).toBeDefined();
      if (!g) continue;
      for (const k of ['h', 'w', 'x', 'y'] as const)
        expect(Number.isInteger(g[k]) && g[k] >= 0, `panel ${p.id} gridPos.${k}`).toBe(true);
      expect(g.w).toBeGreaterThan(0);
      expect(g.x + g.w, `panel ${p.id} fits 24 columns`).toBeLessThanOrEqual(GRID_COLUMNS);
      boxes.push({ id: p.id as number, ...g });
    }
    for (const a of boxes)
      for (const b of boxes)
        if (a.id < b.id) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `panels ${a.id} and ${b.id} overlap`).toBe(false);
        }
  });

  it.each(entries)('%s: every target has a refId and the provisioned data source', (_, d) => {
    for (const p of allPanels(d)) {
      if (p.type === 'row') {
        expect(p.targets ?? []).toEqual([]);
        continue;
      }
      expect(p.datasource, `panel ${p.id}`).toEqual(DATASOURCE);
      const targets = targetsOf(p);
      expect(targets.length, `panel ${p.id} has targets`).toBeGreaterThan(0);
      const refIds = targets.map((t) => t.refId);
      expect(new Set(refIds).size, `panel ${p.id} refIds unique`).toBe(refIds.length);
      for (const t of targets) {
        const where = `panel ${p.id} target ${t.refId}`;
        expect(t.refId, where).toMatch(/^[A-Z]$/);
        expect(t.datasource, where).toEqual(DATASOURCE);
        // Raw InfluxQL only: the text the test runs is exactly what Grafana sends.
        expect(t.rawQuery, where).toBe(true);
        expect(t.query, where).toMatch(/^(SELECT|SHOW) /);
        expect(['time_series', 'table'], where).toContain(t.resultFormat);
      }
    }
    for (const a of annotationsOf(d)) {
      const where = `annotation ${a.name}`;
      expect(a.datasource, where).toEqual(DATASOURCE);
      const t = a.target;
      expect(t, `${where} target`).toMatchObject({ rawQuery: true, fromAnnotations: true });
      expect(t?.refId, where).toBeTruthy();
      expect(t?.query, where).toMatch(/^SELECT /);
      const columns = selectedColumns(t?.query ?? '');
      expect(t?.titleColumn, `${where} has a title column`).toBeTruthy();
      for (const c of [t?.titleColumn, t?.textColumn, t?.tagsColumn, t?.timeEndColumn])
        if (c) expect(columns, `${where} selects ${c}`).toContain(c);
    }
  });

  it.each(entries)('%s: template variables are well formed and resolvable in order', (_, d) => {
    const defined = new Set<string>();
    for (const v of variablesOf(d)) {
      expect(VARIABLE_TYPES, `variable ${v.name} type`).toContain(v.type);
      expect(v.name).toMatch(/^\w+$/);
      expect(defined.has(v.name), `variable ${v.name} defined twice`).toBe(false);
      if (v.type === 'query') {
        expect(v.datasource, `variable ${v.name}`).toEqual(DATASOURCE);
        expect(String(v.query), `variable ${v.name}`).toMatch(/^SHOW TAG VALUES FROM /);
        expect([1, 2], `variable ${v.name} refresh`).toContain(v.refresh);
        // Grafana resolves variables in list order: a query may only use earlier ones.
        for (const ref of referencedVariables(String(v.query)))
          expect(defined.has(ref) || MACROS.has(ref), `variable ${v.name} uses $${ref}`).toBe(true);
      }
      const current = currentValues(v);
      if (v.type === 'custom' && current.length > 0) {
        const options = customValues(v);
        for (const c of current) expect([...options, ALL], `variable ${v.name}`).toContain(c);
      }
      if (current.includes(ALL)) expect(v.includeAll, `variable ${v.name} All`).toBe(true);
      if (current.length > 1) expect(v.multi, `variable ${v.name} multi`).toBe(true);
      defined.add(v.name);
    }
    for (const p of allPanels(d)) {
      if (p.repeat) expect(defined.has(p.repeat), `panel ${p.id} repeats $${p.repeat}`).toBe(true);
      for (const ref of referencedVariables(p.title ?? ''))
        expect(defined.has(ref), `panel ${p.id} title uses $${ref}`).toBe(true);
    }
    for (const q of queriesOf(d))
      for (const ref of referencedVariables(q.query))
        expect(defined.has(ref) || MACROS.has(ref), `${q.where} uses $${ref}`).toBe(true);
  });

  it.each(entries)("%s: queries read the hub's measurements by their retention policy", (_, d) => {
    for (const { where, query, panel } of queriesOf(d)) {
      const read = measurements(query);
      expect(read.length, `${where} names "rp"."measurement"`).toBeGreaterThan(0);
      const known = new Set([...FUNCTION_COLUMNS, ...aliases(query)]);
      for (const { rp, measurement } of read) {
        const schema = HUB_SCHEMA[measurement];
        expect(schema, `${where}: measurement ${measurement}`).toBeDefined();
        if (!schema) continue;
        expect(rp, `${where}: ${measurement} lives in ${schema.rp}`).toBe(schema.rp);
        for (const name of [rp, measurement, ...schema.tags, ...schema.fields]) known.add(name);
      }
      for (const name of identifiers(query))
        expect(known.has(name), `${where}: "${name}" is no tag, field or alias`).toBe(true);
      // Panel and annotation queries are bounded by the dashboard's time range, and an outer
      // query over a subquery that buckets by time bounds itself too (else InfluxDB counts
      // buckets from the epoch).
      if (!query.startsWith('SHOW')) expect(query, where).toContain('$timeFilter');
      if (panel && groupsByTime(query))
        expect(depthZero(query), `${where}: outer $timeFilter`).toContain('$timeFilter');
    }
  });

  it.each(entries)('%s: aliases name only what the query groups by', (_, d) => {
    for (const p of allPanels(d))
      for (const t of targetsOf(p)) {
        const tags = groupByTags(t.query ?? '');
        for (const m of (t.alias ?? '').matchAll(/\$tag_(\w+)/g))
          expect(tags, `panel ${p.id} ${t.refId} alias ${m[0]}`).toContain(m[1]);
      }
  });
});
