// Flags shared by the commands, and their conversion to the simulator's options.
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { anomalyRulesFrom } from '../anomalies/spec.ts';
import type { AnomalyRule } from '../anomalies/types.ts';
import type { BehaviourOptions } from '../behaviours.ts';
import { fastClock, type SimClock, scaledClock } from '../clock.ts';
import { usageError } from '../errors.ts';
import { type FleetConfig, type GroupConfig, readFleetFile, startOf } from '../fleet-config.ts';
import type { Transport } from '../ports.ts';
import { parseDuration } from '../time-text.ts';
import { MqttTransport } from '../transports/mqtt-transport.ts';
import type { ClockMode } from '../transports/serial-device.ts';
import { SerialTransport } from '../transports/serial-transport.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export const OUTPUT_OPTIONS: Options = {
  quiet: { type: 'boolean' },
  progress: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const RUN_OPTIONS: Options = {
  count: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  speed: { type: 'string' },
  'as-fast-as-possible': { type: 'boolean' },
  window: { type: 'string' },
  'drain-timeout': { type: 'string' },
  anomalies: { type: 'string', multiple: true },
  labels: { type: 'string' },
  firmware: { type: 'string' },
};

export const FLEET_OPTIONS: Options = {
  fleet: { type: 'string' },
  devices: { type: 'string' },
  profile: { type: 'string' },
  sites: { type: 'string' },
  prefix: { type: 'string' },
  interval: { type: 'string' },
  rate: { type: 'string' },
  start: { type: 'string' },
  'reboot-every': { type: 'string' },
  'silence-every': { type: 'string' },
  'silence-for': { type: 'string' },
  'burst-every': { type: 'string' },
  'burst-size': { type: 'string' },
  'clock-skew': { type: 'string' },
  'clock-drift': { type: 'string' },
  jitter: { type: 'string' },
};

export const MQTT_OPTIONS: Options = {
  url: { type: 'string' },
  qos: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
};

export const SERIAL_OPTIONS: Options = {
  serial: { type: 'string', multiple: true },
  device: { type: 'string' },
  baud: { type: 'string' },
  'no-ack': { type: 'boolean' },
  clock: { type: 'string' },
  'ack-timeout': { type: 'string' },
  'max-kept': { type: 'string' },
  garbage: { type: 'string' },
  corrupt: { type: 'string' },
  drop: { type: 'string' },
};

export const str = (v: Values, name: string): string | undefined => {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
};
export const list = (v: Values, name: string): string[] => {
  const x = v[name];
  return (Array.isArray(x) ? x : typeof x === 'string' ? [x] : [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
};

export function int(v: Values, name: string, min = 0): number | undefined {
  const text = str(v, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw usageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function num(v: Values, name: string, min: number, max = Number.POSITIVE_INFINITY) {
  const text = str(v, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw usageError(`--${name} must be a number in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

export function dur(v: Values, name: string, bareUnit: 'ms' | 's' = 's'): number | undefined {
  const text = str(v, name);
  return text === undefined ? undefined : parseDuration(text, `--${name}`, bareUnit);
}

/** Flags and an optional fleet file, merged: flags win. */
export function fleetConfig(v: Values): FleetConfig {
  const fleetPath = str(v, 'fleet');
  const file = fleetPath ? readFleetFile(fleetPath) : {};
  const seed = int(v, 'seed') ?? file.seed ?? 1;
  const devices = int(v, 'devices', 1);
  const profiles = list(v, 'profile');
  let groups: GroupConfig[] = file.groups ?? [{ profile: 'climate', count: 3 }];
  if (devices !== undefined || profiles.length > 0) {
    const n = devices ?? (fleetPath ? groups.reduce((a, g) => a + g.count, 0) : 3);
    const names = profiles.length > 0 ? profiles : ['climate'];
    groups = names
      .map((profile, i) => ({
        profile,
        count: Math.floor(n / names.length) + (i < n % names.length ? 1 : 0),
      }))
      .filter((g) => g.count > 0);
  }
  const siteNames = list(v, 'sites');
  const sites =
    siteNames.length > 0
      ? siteNames.map((name) => file.sites?.find((s) => s.name === name) ?? { name })
      : (file.sites ?? []);
  if (siteNames.length > 0) groups = groups.map((g) => ({ ...g, sites: undefined }));
  const intervalMs = dur(v, 'interval', 'ms') ?? file.intervalMs ?? 1000;
  const rate = num(v, 'rate', 0.001);
  if (rate !== undefined) {
    const total = groups.reduce((a, g) => a + g.count, 0);
    groups = groups.map((g) => ({ ...g, intervalMs: (total * 1000) / rate }));
  }
  const startText = str(v, 'start');
  return {
    seed,
    prefix: str(v, 'prefix') ?? file.prefix ?? 'sim-',
    intervalMs,
    start: startText === undefined ? file.start : startOf(startText, '--start'),
    sites,
    groups,
    behaviours: { ...file.behaviours, ...behaviours(v) },
    anomalies: [...(file.anomalies ?? []), ...anomalies(v)],
  };
}

export function anomalies(v: Values): AnomalyRule[] {
  const specs = v.anomalies;
  return (Array.isArray(specs) ? specs : []).flatMap((s) => anomalyRulesFrom(s));
}

function behaviours(v: Values): BehaviourOptions {
  const b: BehaviourOptions = {};
  const set = <K extends keyof BehaviourOptions>(k: K, x: BehaviourOptions[K] | undefined) => {
    if (x !== undefined) b[k] = x;
  };
  set('rebootEveryMs', dur(v, 'reboot-every'));
  set('silenceEveryMs', dur(v, 'silence-every'));
  set('silenceForMs', dur(v, 'silence-for'));
  set('burstEveryMs', dur(v, 'burst-every'));
  set('burstSize', int(v, 'burst-size', 2));
  set('clockSkewMs', dur(v, 'clock-skew'));
  set('clockDriftPpm', num(v, 'clock-drift', 0));
  set('jitterMs', dur(v, 'jitter', 'ms'));
  return b;
}

export function clockFor(v: Values, start: number): SimClock {
  if (v['as-fast-as-possible']) return fastClock(start);
  return scaledClock(start, num(v, 'speed', 1e-6) ?? 1);
}

export function mqttTransport(v: Values, env: Record<string, string | undefined>): Transport {
  const qos = int(v, 'qos') ?? 1;
  if (qos > 2) throw usageError(`--qos must be 0, 1 or 2, got ${qos}`);
  const ca = str(v, 'ca');
  return new MqttTransport({
    url: str(v, 'url') ?? 'mqtt://127.0.0.1:1883',
    qos: qos as 0 | 1 | 2,
    username: str(v, 'username'),
    password: str(v, 'password') ?? env.IOT_SIM_PASSWORD,
    ca: ca === undefined ? undefined : readFileSync(ca),
    cert: str(v, 'cert'),
    key: str(v, 'key'),
  });
}

export function serialTransport(v: Values, paths: Map<string, string>, seed: number): Transport {
  const clock = str(v, 'clock') ?? 'rtc';
  if (!['rtc', 'uptime', 'sync'].includes(clock)) {
    throw usageError(`--clock must be rtc, uptime or sync, got ${JSON.stringify(clock)}`);
  }
  return new SerialTransport({
    paths,
    baud: int(v, 'baud', 1),
    ack: !v['no-ack'],
    clock: clock as ClockMode,
    retransmit: { initialMs: dur(v, 'ack-timeout', 'ms') ?? 250, maxKept: maxKept(v) },
    faults: {
      garbage: num(v, 'garbage', 0, 1) ?? 0,
      corrupt: num(v, 'corrupt', 0, 1) ?? 0,
      drop: num(v, 'drop', 0, 1) ?? 0,
    },
    seed,
  });
}

export function maxKept(v: Values): number {
  return int(v, 'max-kept', 4) ?? 64;
}
