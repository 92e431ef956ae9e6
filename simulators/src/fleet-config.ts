// The fleet: which devices, with which profile, where, how often; from flags or a YAML file
// (`--fleet FILE`), validated against a TypeBox schema with errors that name the key.
import { loadConfig } from '@iot-stream/contracts';
import { type Static, Type } from '@sinclair/typebox';
import { normaliseRule } from './anomalies/spec.ts';
import type { AnomalyRule } from './anomalies/types.ts';
import type { BehaviourOptions } from './behaviours.ts';
import type { DeviceSpec } from './device.ts';
import { specError } from './errors.ts';
import { profileByName } from './profiles/index.ts';
import type { Site } from './profiles/types.ts';
import { streamFor, uniform } from './random.ts';
import { parseDuration, parseTimestamp } from './time-text.ts';

export interface SiteConfig {
  name: string;
  utcOffset?: number | undefined;
  temperatureOffset?: number | undefined;
}

export interface GroupConfig {
  profile: string;
  count: number;
  intervalMs?: number | undefined;
  sites?: string[] | undefined;
}

export interface FleetConfig {
  seed: number;
  prefix: string;
  intervalMs: number;
  /** Start of simulated time (epoch ms); now when absent. */
  start?: number | undefined;
  sites: SiteConfig[];
  groups: GroupConfig[];
  behaviours: BehaviourOptions;
  anomalies: AnomalyRule[];
}

const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,40}$' });
const Duration = Type.Union([Type.String(), Type.Number()]);

export const FleetFileSchema = Type.Object(
  {
    seed: Type.Optional(Type.Integer({ minimum: 0 })),
    prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{0,40}$' })),
    interval: Type.Optional(Duration),
    start: Type.Optional(Type.Union([Type.String(), Type.Number()])),
    sites: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Name,
            utcOffset: Type.Optional(Type.Number({ minimum: -12, maximum: 14 })),
            temperatureOffset: Type.Optional(Type.Number({ minimum: -40, maximum: 40 })),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    devices: Type.Optional(
      Type.Array(
        Type.Object(
          {
            profile: Type.String(),
            count: Type.Integer({ minimum: 1 }),
            interval: Type.Optional(Duration),
            sites: Type.Optional(Type.Array(Name)),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    ),
    behaviours: Type.Optional(
      Type.Object(
        {
          reboot: Type.Optional(Type.Object({ every: Duration }, { additionalProperties: false })),
          silence: Type.Optional(
            Type.Object(
              { every: Duration, duration: Type.Optional(Duration) },
              { additionalProperties: false },
            ),
          ),
          burst: Type.Optional(
            Type.Object(
              { every: Duration, size: Type.Optional(Type.Integer({ minimum: 2 })) },
              { additionalProperties: false },
            ),
          ),
          clockSkew: Type.Optional(Duration),
          clockDrift: Type.Optional(Type.Number({ minimum: 0 })),
          jitter: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    anomalies: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);
export type FleetFile = Static<typeof FleetFileSchema>;

/** Reads and checks a fleet file; durations: `interval` bare numbers are ms, others seconds. */
export function readFleetFile(path: string): Partial<FleetConfig> {
  const file = loadConfig(FleetFileSchema, { file: path });
  const out: Partial<FleetConfig> = {};
  const d = (v: string | number, key: string, unit: 'ms' | 's' = 's') =>
    parseDuration(v, `${path}: ${key}`, unit);
  if (file.seed !== undefined) out.seed = file.seed;
  if (file.prefix !== undefined) out.prefix = file.prefix;
  if (file.interval !== undefined) out.intervalMs = d(file.interval, 'interval', 'ms');
  if (file.start !== undefined) out.start = startOf(file.start, `${path}: start`);
  if (file.sites) out.sites = file.sites.map((s) => ({ ...s }));
  if (file.devices) {
    out.groups = file.devices.map((g, i) => ({
      profile: g.profile,
      count: g.count,
      intervalMs:
        g.interval === undefined ? undefined : d(g.interval, `devices[${i}].interval`, 'ms'),
      sites: g.sites ? [...g.sites] : undefined,
    }));
  }
  const b = file.behaviours;
  if (b) {
    const behaviours: BehaviourOptions = {};
    if (b.reboot) behaviours.rebootEveryMs = d(b.reboot.every, 'behaviours.reboot.every');
    if (b.silence) {
      behaviours.silenceEveryMs = d(b.silence.every, 'behaviours.silence.every');
      if (b.silence.duration !== undefined) {
        behaviours.silenceForMs = d(b.silence.duration, 'behaviours.silence.duration');
      }
    }
    if (b.burst) {
      behaviours.burstEveryMs = d(b.burst.every, 'behaviours.burst.every');
      if (b.burst.size !== undefined) behaviours.burstSize = b.burst.size;
    }
    if (b.clockSkew !== undefined) behaviours.clockSkewMs = d(b.clockSkew, 'behaviours.clockSkew');
    if (b.clockDrift !== undefined) behaviours.clockDriftPpm = b.clockDrift;
    if (b.jitter !== undefined) behaviours.jitterMs = d(b.jitter, 'behaviours.jitter', 'ms');
    out.behaviours = behaviours;
  }
  if (file.anomalies) {
    out.anomalies = file.anomalies.map((r, i) => normaliseRule(r, `${path}: anomalies[${i}]`));
  }
  return out;
}

/** ISO-8601 (UTC when it has no offset) or epoch milliseconds. */
export function startOf(value: string | number, what: string): number {
  const t = typeof value === 'number' ? value : parseTimestamp(value);
  if (t === undefined || !Number.isFinite(t) || t < 0) {
    throw specError(
      `${what}: expected ISO-8601 or epoch milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return t;
}

/** The site's parameters; unset ones derive from the seed and the site's name. */
export function siteOf(config: SiteConfig | undefined, seed: number): Site {
  if (!config) return { name: '', utcOffsetHours: 0, temperatureOffset: 0 };
  const random = streamFor(seed, 'site', config.name);
  return {
    name: config.name,
    utcOffsetHours: config.utcOffset ?? 0,
    temperatureOffset: config.temperatureOffset ?? Math.round(uniform(random, -3, 3) * 10) / 10,
  };
}

/**
 * The devices of a fleet: groups in order, numbered per site (`sim-plant-a-001`) or across the
 * fleet without sites (`sim-001`); a group's devices go round-robin over its sites (every site
 * of the fleet when the group names none).
 */
export function buildDevices(config: FleetConfig): DeviceSpec[] {
  const sites = new Map(config.sites.map((s) => [s.name, siteOf(s, config.seed)]));
  const numbers = new Map<string, number>();
  const devices: DeviceSpec[] = [];
  for (const group of config.groups) {
    const profile = profileByName(group.profile);
    const names = group.sites ?? config.sites.map((s) => s.name);
    for (const name of names) {
      if (!sites.has(name))
        throw specError(`device group ${group.profile}: unknown site ${JSON.stringify(name)}`);
    }
    for (let i = 0; i < group.count; i += 1) {
      const siteName = names.length > 0 ? (names[i % names.length] as string) : '';
      const n = (numbers.get(siteName) ?? 0) + 1;
      numbers.set(siteName, n);
      const id = `${config.prefix}${siteName ? `${siteName}-` : ''}${String(n).padStart(3, '0')}`;
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
        throw specError(
          `device id ${JSON.stringify(id)} is not 1..64 of [A-Za-z0-9._-]; change --prefix`,
        );
      }
      devices.push({
        index: devices.length,
        id,
        profile,
        site: sites.get(siteName) ?? siteOf(undefined, config.seed),
        intervalMs: group.intervalMs ?? config.intervalMs,
      });
    }
  }
  return devices;
}
