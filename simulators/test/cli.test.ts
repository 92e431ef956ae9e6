import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../test/support/pty.ts';
import { TestBroker } from './support/broker.ts';
import { runCli, spawnCli, summaryOf } from './support/cli.ts';
import { TestGateway } from './support/test-gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'iot-sim-cli-'));
let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('iot-sim command line', () => {
  it.each([
    ['mqtt', /Usage: iot-sim mqtt \[options\][\s\S]*--url URL[\s\S]*--anomalies SPEC\|FILE/],
    ['serial', /Usage: iot-sim serial --serial PATH[\s\S]*--garbage P[\s\S]*--reboot-every D/],
    ['replay', /Usage: iot-sim replay --csv FILE --device ID[\s\S]*--as-fast-as-possible/],
    ['modbus', /Usage: iot-sim modbus \(--rtu PATH \| --tcp[\s\S]*--print-config[\s\S]*--labels/],
  ])('bin/iot-sim.js %s --help prints the usage', async (command, usage) => {
    const r = await spawnCli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).toBe('');
  });

  it('lists the commands with --help, and exits 2 without a command', async () => {
    expect(await runCli(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/iot-sim mqtt {3}\[options\]/),
    });
    expect((await runCli([])).code).toBe(2);
  });

  it.each([
    [['mqtt', '--devices', 'x'], /--devices must be an integer >= 1, got "x"/],
    [['mqtt', '--bogus'], /Unknown option '--bogus'/],
    [['mqtt', '--interval', 'soon'], /--interval: expected a duration/],
    [['mqtt', '--profile', 'toaster'], /unknown profile "toaster"/],
    [['mqtt', '--anomalies', 'spike:at=1m,every=1m'], /give exactly one of at/],
    [['serial'], /give the serial line of each device: --serial PATH/],
    [['serial', '--serial', '/a,/b', '--devices', '3'], /3 devices but 2 serial lines/],
    [['replay', '--csv', 'x.csv'], /replay needs --csv FILE and --device ID/],
    [['modbus'], /give the bus: --rtu PATH/],
    [['modbus', '--tcp', 'x:y'], /--tcp must be \[HOST:\]PORT, got "x:y"/],
    [['modbus', '--tcp', '5020', '--devices', '10', '--first-unit', '240'], /pass 247/],
    [['modbus', '--tcp', '5020', '--encoding', 'bcd'], /--encoding must be int or float32/],
    [['fly'], /unknown command "fly"/],
  ])('%j is a usage error (exit 2) that says what is wrong', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('runs a short fleet against a real broker through bin/iot-sim.js', async () => {
    broker = await TestBroker.start();
    const r = await spawnCli([
      'mqtt',
      '--url',
      broker.url,
      '--devices',
      '2',
      '--interval',
      '10',
      '--count',
      '5',
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(summaryOf(r)).toMatchObject({
      command: 'mqtt',
      devices: 2,
      sent: 10,
      acknowledged: 10,
      failed: 0,
      seed: 1,
    });
    expect(broker.data().length).toBe(10);
    expect(
      new Set(broker.data().map((d) => JSON.stringify(Object.keys(d.metrics as object)))),
    ).toEqual(new Set(['["temperature","humidity"]']));
  });

  it('is deterministic with --seed and --start: the same readings, byte for byte', async () => {
    const payloads = async (seed: string) => {
      broker = await TestBroker.start();
      const argv = [
        'mqtt',
        '--url',
        broker.url,
        '--devices',
        '3',
        '--profile',
        'power,vibration,air-quality',
        '--interval',
        '1m',
        '--count',
        '30',
        '--start',
        '2026-01-05T06:00:00Z',
        '--seed',
        seed,
        '--as-fast-as-possible',
        '--anomalies',
        'noise-burst:every=10m',
        '--clock-skew',
        '5s',
        '--reboot-every',
        '15m',
      ];
      const r = await runCli(argv);
      expect(r.code).toBe(0);
      const out = broker.published
        .filter((p) => p.topic.endsWith('/data'))
        .map((p) => `${p.topic} ${p.payload}`)
        .sort();
      await broker.close();
      broker = undefined;
      return out;
    };
    const a = await payloads('42');
    expect(a).toHaveLength(90);
    expect(await payloads('42')).toEqual(a);
    expect(await payloads('43')).not.toEqual(a);
  });

  it('simulates a day as fast as possible, bounded by --duration, with ground-truth labels', async () => {
    broker = await TestBroker.start();
    const labels = join(dir, 'day.jsonl');
    const r = await runCli([
      'mqtt',
      '--url',
      broker.url,
      '--devices',
      '2',
      '--interval',
      '1m',
      '--duration',
      '1d',
      '--start',
      '2026-01-05T00:00:00Z',
      '--as-fast-as-possible',
      '--window',
      '50',
      '--anomalies',
      'spike:metrics=temperature,every=2h',
      '--labels',
      labels,
    ]);
    expect(r.code).toBe(0);
    const summary = summaryOf(r);
    expect(summary).toMatchObject({ sent: 2880, acknowledged: 2880, failed: 0 });
    const times = broker.data('sim-001').map((d) => d.time as number);
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThan(23.9 * 3_600_000);
    const lines = readFileSync(labels, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(summary.labels);
    expect(lines.length).toBeGreaterThan(8);
    expect(lines[0]).toMatchObject({
      metric: 'temperature',
      type: 'spike',
      end: lines[0].start + 60_000,
    });
  });

  it('holds a total rate with --rate and reports progress once a second with --progress', async () => {
    broker = await TestBroker.start();
    const r = await runCli([
      'mqtt',
      '--url',
      broker.url,
      '--devices',
      '4',
      '--rate',
      '200',
      '--duration',
      '2.2s',
      '--progress',
    ]);
    expect(r.code).toBe(0);
    const { sent } = summaryOf(r) as { sent: number };
    expect(sent).toBeGreaterThan(330);
    expect(sent).toBeLessThan(480);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(
      /^iot-sim mqtt: 1s sent=\d+ acknowledged=\d+ failed=0 inflight=\d+ rate=\d+\/s avg=\d+\/s$/,
    );
  });

  it('builds the fleet from a YAML file: groups, sites, rates, behaviours', async () => {
    broker = await TestBroker.start();
    const fleet = join(dir, 'fleet.yaml');
    writeFileSync(
      fleet,
      [
        'seed: 5',
        'prefix: f-',
        'interval: 10ms',
        'sites:',
        '  - { name: north, utcOffset: 1 }',
        '  - { name: south, temperatureOffset: 8 }',
        'devices:',
        '  - { profile: climate, count: 3 }',
        '  - { profile: power, count: 1, interval: 20ms, sites: [south] }',
        'behaviours:',
        '  clockSkew: 2s',
        'anomalies:',
        '  - { type: dropout, metrics: humidity, at: 0s, duration: 1h }',
      ].join('\n'),
    );
    const r = await runCli(['mqtt', '--fleet', fleet, '--url', broker.url, '--count', '3']);
    expect(r.code).toBe(0);
    const topics = [
      ...new Set(broker.published.filter((p) => p.topic.endsWith('/data')).map((p) => p.topic)),
    ].sort();
    expect(topics).toEqual([
      'iot/v1/f-north-001/data',
      'iot/v1/f-north-002/data',
      'iot/v1/f-south-001/data',
      'iot/v1/f-south-002/data',
    ]);
    expect(Object.keys(broker.data('f-south-002')[0]?.metrics as object)).toEqual([
      'power',
      'voltage',
      'current',
      'energy',
    ]);
    expect(Object.keys(broker.data('f-north-001')[0]?.metrics as object)).toEqual(['temperature']);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'devices:\n  - { profile: climate, count: 0 }\n');
    const e = await runCli(['mqtt', '--fleet', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/devices\.0\.count/);
  });

  it('exits 1 when readings go unacknowledged', async () => {
    broker = await TestBroker.start();
    broker.broker.authorizePublish = (_c, packet, done) => {
      if (!packet.topic.endsWith('/data')) done(null);
    };
    const r = await runCli([
      'mqtt',
      '--url',
      broker.url,
      '--devices',
      '1',
      '--count',
      '2',
      '--interval',
      '5',
      '--drain-timeout',
      '0.2',
    ]);
    expect(r.code).toBe(1);
    expect(summaryOf(r)).toMatchObject({ sent: 2, acknowledged: 0, failed: 2 });
  });

  it('exits 1 with the reason when the broker cannot be reached', async () => {
    const r = await runCli([
      'mqtt',
      '--url',
      'mqtt://127.0.0.1:1',
      '--devices',
      '1',
      '--count',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /device sim-001 cannot connect to mqtt:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\[MQTT_CONNECT_FAILED\]/,
    );
  });

  it('runs serial devices through bin/iot-sim.js over a pseudo-terminal', async () => {
    const pty = await new PtyPair().start();
    const gw = new TestGateway(pty.gateway);
    try {
      const r = await spawnCli([
        'serial',
        '--serial',
        pty.device,
        '--device',
        'probe-1',
        '--profile',
        'vibration',
        '--count',
        '8',
        '--interval',
        '10',
        '--garbage',
        '0.2',
        '--quiet',
      ]);
      expect(r.code).toBe(0);
      expect(summaryOf(r)).toMatchObject({
        command: 'serial',
        sent: 8,
        acknowledged: 8,
        failed: 0,
      });
      expect(gw.frames[0]?.frame.body).toMatchObject({ deviceId: 'probe-1' });
      expect(new Set(gw.data().map((d) => d.frame.seq))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9]));
    } finally {
      gw.close();
      await pty.stop();
    }
  });
});
