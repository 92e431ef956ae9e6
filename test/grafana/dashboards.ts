import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AnnotationQuery, Dashboard, Panel, RowPanel, VariableModel } from '@grafana/schema';
import anomalies from '../../grafana/dashboards/anomalies.json' with { type: 'json' };
import deviceDetail from '../../grafana/dashboards/device-detail.json' with { type: 'json' };
import fleetOverview from '../../grafana/dashboards/fleet-overview.json' with { type: 'json' };
import pipelineHealth from '../../grafana/dashboards/pipeline-health.json' with { type: 'json' };
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';

/**
 * The schema's types as a JSON file can satisfy them: a JSON import has no literal types
 * (`"type": "query"` is a `string`), so string-literal unions and string enums are widened to
 * `string`; everything else (property names, nesting, required keys, numbers vs strings) is
 * checked by `tsc` (`npm run typecheck`). The literal values are checked at run time
 * (dashboards.test.ts).
 */
type Json<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer U)[]
        ? Json<U>[]
        : T extends object
          ? { [K in keyof T]: Json<T[K]> }
          : T;

export type DashboardJson = Json<Dashboard>;

/** Every dashboard in grafana/dashboards/, by file name, typed against @grafana/schema. */
export const DASHBOARDS: Record<string, DashboardJson> = {
  'anomalies.json': anomalies,
  'device-detail.json': deviceDetail,
  'fleet-overview.json': fleetOverview,
  'pipeline-health.json': pipelineHealth,
};

export const DASHBOARD_DIR = join(REPO_ROOT, 'grafana', 'dashboards');
export const PROVISIONING_DIR = join(REPO_ROOT, 'grafana', 'provisioning');

/** The provisioned data source every panel, annotation and variable must use. */
export const DATASOURCE = { type: 'influxdb', uid: 'iot-influxdb' } as const;

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export type PanelJson = Json<Panel> & { panels?: Json<Panel>[] };
export type RowJson = Json<RowPanel>;
export type VariableJson = Json<VariableModel> & { definition?: string };

/**
 * An InfluxQL annotation as Grafana 10+ stores it: the query and the column mapping in `target`
 * (the InfluxDB data source's `prepareAnnotation` moves the older top-level form there).
 */
export type AnnotationJson = Json<AnnotationQuery> & { target?: AnnotationTargetJson };

export interface AnnotationTargetJson {
  refId: string;
  rawQuery?: boolean;
  fromAnnotations?: boolean;
  query?: string;
  titleColumn?: string;
  textColumn?: string;
  tagsColumn?: string;
  timeEndColumn?: string;
}

/** An InfluxQL target in raw mode, the only kind these dashboards use. */
export interface InfluxTarget {
  refId: string;
  datasource?: { type?: string; uid?: string };
  rawQuery?: boolean;
  query?: string;
  resultFormat?: string;
  alias?: string;
  hide?: boolean;
}

/** Every panel, with the panels inside rows (collapsed or not) flattened; rows included. */
export function allPanels(d: DashboardJson): PanelJson[] {
  const out: PanelJson[] = [];
  for (const p of (d.panels ?? []) as PanelJson[]) {
    out.push(p);
    for (const inner of p.panels ?? []) out.push(inner as PanelJson);
  }
  return out;
}

export function targetsOf(p: PanelJson): InfluxTarget[] {
  return (p.targets ?? []) as unknown as InfluxTarget[];
}

export function variablesOf(d: DashboardJson): VariableJson[] {
  return (d.templating?.list ?? []) as VariableJson[];
}

export function annotationsOf(d: DashboardJson): AnnotationJson[] {
  return (d.annotations?.list ?? []) as AnnotationJson[];
}

/** A custom variable's values (`a,b,c`; Grafana also accepts `text : value` pairs). */
export function customValues(v: VariableJson): string[] {
  return String(v.query ?? '')
    .split(/(?<!\\),/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (s.includes(' : ') ? (s.split(' : ')[1] as string) : s));
}

/** The variable's `current.value` as a list (`['$__all']` for All, `[]` when unset). */
export function currentValues(v: VariableJson): string[] {
  const value = v.current?.value;
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
