import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The two apps' command lines as a new user meets them: a misspelt key, secrets in
// --print-config, secrets in the environment. Each run is the real bin in its own process.

const root = join(import.meta.dirname, '..', '..');
const bins = {
  gateway: join(root, 'gateway', 'bin', 'iot-gateway.js'),
  hub: join(root, 'hub', 'bin', 'iot-hub.js'),
};
const dir = mkdtempSync(join(tmpdir(), 'iot-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function run(app: keyof typeof bins, yaml: string | undefined, args: string[], env = {}) {
  n += 1;
  const file = join(dir, `c${n}.yaml`);
  if (yaml !== undefined) writeFileSync(file, yaml);
  const r = spawnSync(
    process.execPath,
    [bins[app], ...(yaml === undefined ? [] : ['--config', file]), ...args],
    {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    },
  );
  return { code: r.status, out: r.stdout, err: r.stderr, file };
}

describe('a misspelt configuration key is refused (exit 2), naming key, file and nearest key', () => {
  const cases: [keyof typeof bins, string, RegExp][] = [
    ['gateway', 'mqt:\n  auth: password\n', /`mqt`: did you mean `mqtt`\?/],
    ['gateway', 'kafak:\n  brokers: [k:9092]\n', /`kafak`: did you mean `kafka`\?/],
    ['gateway', 'kafka:\n  broker: [k:9092]\n', /`kafka\.broker`: did you mean `kafka\.brokers`\?/],
    [
      'gateway',
      'outbox:\n  synchronus: NORMAL\n',
      /`outbox\.synchronus`: did you mean `outbox\.synchronous`\?/,
    ],
    ['hub', 'http:\n  tokn: 0123456789abcdef0\n', /`http\.tokn`: did you mean `http\.token`\?/],
    ['hub', 'kafka:\n  brokerz: [k:9092]\n', /`kafka\.brokerz`: did you mean `kafka\.brokers`\?/],
    ['hub', 'influx:\n  databse: x\n', /`influx\.databse`: did you mean `influx\.database`\?/],
    [
      'hub',
      'stream:\n  rulesfile: r.yaml\n',
      /`stream\.rulesfile`: did you mean `stream\.rulesFile`\?/,
    ],
  ];
  it.each(cases)('%s: %j', (app, yaml, message) => {
    const r = run(app, yaml, ['--print-config']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toContain(r.file);
    expect(r.err).toContain('[CONFIG_INVALID]');
    expect(r.out).toBe('');
  });

  it('the gateway devices file too', () => {
    const devices = join(dir, 'devices.yaml');
    writeFileSync(devices, 'devices:\n  sensor-1:\n    pasword: x\n');
    const r = run('gateway', `mqtt:\n  auth: password\n  devicesFile: ${devices}\n`, [], {
      GATEWAY_HTTP_PORT: '0',
      MQTT_PORT: '0',
      OUTBOX_PATH: join(dir, 'outbox.sqlite'),
    });
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(
      /`devices\.sensor-1\.pasword`: did you mean `devices\.sensor-1\.passwordHash`\?/,
    );
    expect(r.err).toContain(devices);
  });
});

describe('--print-config never prints a secret', () => {
  const secrets = {
    hubToken: 'hub-token-SECRET-1',
    sasl: 'sasl,pass-SECRET-2',
    mqtt: 'mqtt-pass-SECRET-3',
    apiToken: 'api-token-SECRET-4-long-enough',
    webhook: 'https://hooks.example.com/services/T000/B000/SECRET5',
    influx: 'influx-pass-SECRET-6',
  };

  it('gateway: hub token, Kafka SASL password (with a comma), external MQTT password', () => {
    const r = run(
      'gateway',
      `mqtt:\n  external:\n    url: mqtt://broker:1883\n    password: ${secrets.mqtt}\n`,
      ['--print-config'],
      { HUB_TOKEN: secrets.hubToken, KAFKA_SASL_PASSWORD: secrets.sasl },
    );
    expect(r.code, r.err).toBe(0);
    for (const s of Object.values(secrets)) expect(r.out).not.toContain(s.split('/').at(-1));
    const shown = JSON.parse(r.out);
    expect(shown.hub.token).toBe('[redacted]');
    expect(shown.kafka.security.sasl.password).toBe('[redacted]');
    expect(shown.mqtt.external.password).toBe('[redacted]');
    expect(shown.mqtt.external.url).toBe('mqtt://broker:1883');
  });

  it('hub: API token, webhook URL (origin kept), InfluxDB password, from NAME_FILE too', () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${secrets.apiToken}\n`);
    const r = run('hub', `webhook:\n  url: ${secrets.webhook}\n`, ['--print-config'], {
      HUB_API_TOKEN_FILE: tokenFile,
      INFLUX_PASSWORD: secrets.influx,
    });
    expect(r.code, r.err).toBe(0);
    for (const s of Object.values(secrets)) expect(r.out).not.toContain(s.split('/').at(-1));
    const shown = JSON.parse(r.out);
    expect(shown.http.token).toBe('[redacted]');
    expect(shown.webhook.url).toBe('https://hooks.example.com/[redacted]');
    expect(shown.influx.password).toBe('[redacted]');
  });

  it('a token read from NAME_FILE is the one the hub uses (a too-short one is refused unseen)', () => {
    const tokenFile = join(dir, 'short-token');
    writeFileSync(tokenFile, 'short-SECRET\n');
    const r = run('hub', undefined, ['--print-config'], { HUB_API_TOKEN_FILE: tokenFile });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/http\.token: .*a secret, not shown.*HUB_API_TOKEN_FILE/);
    expect(r.err).not.toContain('short-SECRET');
  });
});

describe("each bin keeps the modules it compiled in Node's compile cache, for the next start", () => {
  it.each(Object.keys(bins) as (keyof typeof bins)[])('%s', (app) => {
    // Its default place, under the temporary folder (NODE_COMPILE_CACHE would turn it on alone).
    const tmp = mkdtempSync(join(dir, `tmp-${app}-`));
    expect(run(app, undefined, ['--version'], { TMPDIR: tmp }).code).toBe(0);
    expect(
      readdirSync(join(tmp, 'node-compile-cache'), { recursive: true }).length,
    ).toBeGreaterThan(0);
  });
});

describe('--version and --help answer without loading the app', () => {
  it.each(Object.keys(bins) as (keyof typeof bins)[])('%s', (app) => {
    const r = run(app, undefined, ['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^iot-(gateway|hub) \d+\.\d+\.\d+\n$/);
    const h = run(app, undefined, ['--help']);
    expect(h.out).toContain('NAME_FILE');
    const bad = run(app, undefined, ['--no-such-option']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('see --help');
  });
});
