import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { DASHBOARD_DIR, DATASOURCE, dashboardFiles, PROVISIONING_DIR } from './dashboards.ts';

// The provisioning files as Grafana reads them, and their wiring in docker-compose.yml as
// `docker-compose config` resolves it (host paths made absolute, profiles, environment).

interface ComposeService {
  image?: string;
  profiles?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  command?: string[];
  ports?: { target: number; published: number }[];
}

function composeConfig(): { services: Record<string, ComposeService> } {
  const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return parse(out) as { services: Record<string, ComposeService> };
}

/** Container path -> host path of a service's bind mounts. */
function binds(service: ComposeService): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of service.volumes ?? []) {
    const [host, container] = v.split(':');
    if (host?.startsWith('/') && container) out.set(container, host);
  }
  return out;
}

/** `$NAME` / `${NAME}` references Grafana expands from its environment, in a file's values. */
function envRefs(value: unknown): string[] {
  if (typeof value === 'string')
    return [...value.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g)].map((m) => m[1] as string);
  if (value && typeof value === 'object') return Object.values(value).flatMap(envRefs);
  return [];
}

const datasourceFile = join(PROVISIONING_DIR, 'datasources', 'influxdb.yaml');
const dashboardsFile = join(PROVISIONING_DIR, 'dashboards', 'iot.yaml');

describe('grafana/provisioning', () => {
  it('holds only the data source and the dashboards provider', () => {
    const files = readdirSync(PROVISIONING_DIR, { recursive: true, encoding: 'utf8' })
      .filter((f) => statSync(join(PROVISIONING_DIR, f)).isFile())
      .sort();
    expect(files).toEqual(['dashboards/iot.yaml', 'datasources/influxdb.yaml']);
  });

  it('provisions the InfluxQL data source the dashboards refer to', () => {
    const text = readFileSync(datasourceFile, 'utf8');
    const doc = parse(text) as { apiVersion: number; datasources: Record<string, unknown>[] };
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources).toHaveLength(1);
    const ds = doc.datasources[0] as Record<string, unknown> & {
      jsonData: Record<string, unknown>;
      secureJsonData: Record<string, unknown>;
    };
    expect(ds).toMatchObject({
      uid: DATASOURCE.uid,
      type: DATASOURCE.type,
      access: 'proxy',
      url: '$INFLUX_URL',
      user: '$INFLUX_USERNAME',
      database: '$INFLUX_DATABASE',
    });
    expect(ds.jsonData).toMatchObject({ version: 'InfluxQL', dbName: '$INFLUX_DATABASE' });
    expect(ds.secureJsonData).toEqual({ password: '$INFLUX_PASSWORD' });
  });

  it('loads the dashboards from a file provider', () => {
    const doc = parse(readFileSync(dashboardsFile, 'utf8')) as {
      apiVersion: number;
      providers: { type: string; options: { path: string }; folder?: string }[];
    };
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0]).toMatchObject({ type: 'file', folder: 'iot-stream' });
    expect(doc.providers[0]?.options.path).toMatch(/^\//);
  });
});

describe('docker-compose.yml wires Grafana and Prometheus', () => {
  const { services } = composeConfig();

  it('mounts the provisioning files and the dashboards where the provider looks', () => {
    const grafana = services.grafana as ComposeService;
    const mounts = binds(grafana);
    expect(mounts.get('/etc/grafana/provisioning')).toBe(PROVISIONING_DIR);
    const provider = parse(readFileSync(dashboardsFile, 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const path = provider.providers[0]?.options.path as string;
    expect(mounts.get(path), `a bind mount at ${path}`).toBe(DASHBOARD_DIR);
    for (const file of dashboardFiles()) expect(existsSync(join(mounts.get(path) as string, file)));
    // The home dashboard is one of them.
    const home = String(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);
    expect(home.startsWith(`${path}/`), home).toBe(true);
    expect(dashboardFiles()).toContain(home.slice(path.length + 1));
  });

  it("gives Grafana every variable the data source file uses, pointing at the hub's InfluxDB", () => {
    const grafana = services.grafana as ComposeService;
    const hub = services.hub as ComposeService;
    const env = grafana.environment ?? {};
    for (const name of envRefs(parse(readFileSync(datasourceFile, 'utf8'))))
      expect(Object.keys(env), `grafana environment ${name}`).toContain(name);
    expect(env.INFLUX_URL).toBe(hub.environment?.INFLUX_URL);
    expect(env.INFLUX_DATABASE).toBe(hub.environment?.INFLUX_DATABASE);
  });

  it('runs Prometheus only in the observability profile, scraping the hub and the gateway', () => {
    const prometheus = services.prometheus as ComposeService;
    expect(prometheus.profiles).toEqual(['observability']);
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d/);
    const configPath = binds(prometheus).get('/etc/prometheus/prometheus.yml') as string;
    expect(relative(REPO_ROOT, configPath)).toBe('deploy/prometheus/prometheus.yml');
    const config = parse(readFileSync(configPath, 'utf8')) as {
      scrape_configs: {
        job_name: string;
        metrics_path: string;
        static_configs: { targets: string[] }[];
      }[];
    };
    const targets = new Map(
      config.scrape_configs.map((s) => [
        s.job_name,
        { path: s.metrics_path, targets: s.static_configs[0]?.targets },
      ]),
    );
    const port = (s: string, env: string) => Number(services[s]?.environment?.[env]);
    expect(targets.get('iot-hub')).toEqual({
      path: '/metrics',
      targets: [`hub:${port('hub', 'HUB_HTTP_PORT')}`],
    });
    expect(targets.get('iot-gateway')).toEqual({
      path: '/metrics',
      targets: [`gateway:${port('gateway', 'GATEWAY_HTTP_PORT')}`],
    });
  });

  it('makes the hub and the gateway listen beyond the container for /metrics', () => {
    for (const [name, file] of [
      ['hub', 'deploy/docker/hub.yaml'],
      ['gateway', 'deploy/docker/gateway.yaml'],
    ] as const) {
      const service = services[name] as ComposeService;
      const command = service.command ?? [];
      const config = command[command.indexOf('--config') + 1] as string;
      expect(binds(service).get(config), `${name} config mount`).toBe(join(REPO_ROOT, file));
      expect(parse(readFileSync(join(REPO_ROOT, file), 'utf8'))).toMatchObject({
        http: { host: '0.0.0.0' },
      });
    }
  });
});
