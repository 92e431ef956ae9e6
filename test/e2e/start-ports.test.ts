import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';

// `npm start` on a busy developer machine: other programs listen on 8080, 8081 and 1883 (held
// here with listening sockets, each the way such programs bind: a container's published port on
// 0.0.0.0, a dev server on 127.0.0.1, a broker on one address that is not 127.0.0.1, which a
// check on 127.0.0.1 alone misses while the gateway's 0.0.0.0 cannot bind). npm start picks free
// ports, says so and prints the ports it really uses; a port asked for explicitly that is taken
// is refused before anything starts.

const HELD = [
  { host: '0.0.0.0', port: 8080 },
  { host: '127.0.0.1', port: 8081 },
  { host: '127.0.0.2', port: 1883 },
];
const held: Server[] = [];
const data = mkdtempSync(join(tmpdir(), 'iot-start-ports-'));
const children: ChildProcess[] = [];

/** Listens on host:port; already taken (by another program on this machine) is as good. */
function hold(host: string, port: number): Promise<void> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve() : reject(err),
    );
    server.listen({ host, port }, () => {
      held.push(server);
      resolve();
    });
  });
}

beforeAll(async () => {
  for (const h of HELD) await hold(h.host, h.port);
});

afterAll(async () => {
  // Ctrl-C first, so npm start stops its hub and gateway rather than leave them running.
  for (const c of children.filter((c) => c.exitCode === null && c.signalCode === null)) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    c.kill('SIGKILL');
  }
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  rmSync(data, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with all stdout so far once a line matches. */
  until(match: RegExp, timeoutMs: number): Promise<string>;
}

function start(args: string[], dataDir = data): Run {
  const { KAFKA_BROKERS: _k, INFLUX_URL: _i, ...env } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/start.ts', '--data', dataDir, '--interval', '200', ...args],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { match: RegExp; resolve: (text: string) => void }[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) =>
    stderr.push(l),
  );
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    stdout.push(line);
    for (const w of waiters) if (w.match.test(line)) w.resolve(stdout.join('\n'));
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    stdout,
    stderr,
    exited,
    until: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const all = [...stdout, ...stderr].join('\n');
          reject(new Error(`no line matching ${match} within ${timeoutMs} ms:\n${all}`));
        }, timeoutMs);
        waiters.push({
          match,
          resolve: (text) => {
            clearTimeout(timer);
            resolve(text);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`npm start exited:\n${[...stdout, ...stderr].join('\n')}`));
        });
      }),
  };
}

/** The port of the first URL after `label` in the printed block. */
function printedPort(text: string, label: string): number {
  const url = new RegExp(`${label}\\s+((?:http|mqtt)://\\S+)`).exec(text)?.[1];
  expect(url, `${label} in:\n${text}`).toBeDefined();
  return Number(new URL(url as string).port);
}

async function stop(run: Run): Promise<void> {
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(0);
}

/** The gateway's liveness endpoint answers there (readiness may still be pending). */
async function gatewayAnswers(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/health/live`);
  return res.ok && ((await res.json()) as { live?: boolean }).live === true;
}

/** Something accepts TCP connections there (the broker). */
function mqttAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start on a machine where 8080, 8081 and 1883 are taken', () => {
  it('picks free ports, says so, and prints the ports it uses', { timeout: 120_000 }, async () => {
    const run = start([]);
    await run.until(/^Readings are flowing/, 90_000);
    const text = run.stdout.join('\n');
    const hub = printedPort(text, 'Dashboard');
    const health = printedPort(text, 'Gateway health');
    const mqtt = printedPort(text, 'MQTT \\(devices\\)');
    expect([hub, health, mqtt]).not.toContain(8080);
    expect([health, mqtt]).not.toContain(8081);
    expect(mqtt).not.toBe(1883);
    expect(text).toContain(`port 8080 was taken, so the hub listens on ${hub} (--port N`);
    expect(text).toContain(
      `port 8081 was taken, so the gateway health endpoint listens on ${health} (--gateway-port N`,
    );
    expect(text).toContain(
      `port 1883 was taken, so the MQTT broker listens on ${mqtt} (--mqtt-port N`,
    );
    // Every printed address is the one in use.
    expect(printedPort(text, 'Hub REST API')).toBe(hub);
    const curl = /curl -H '[^']+' '(http:\/\/[^']+)'/.exec(text)?.[1] as string;
    expect(new URL(curl).port).toBe(String(hub));
    expect((await fetch(`http://127.0.0.1:${hub}/api/health`)).status).toBe(200);
    expect(await gatewayAnswers(health)).toBe(true);
    expect(await mqttAnswers(mqtt)).toBe(true);
    await stop(run);
  });

  it.each([
    ['--port', '8080'],
    ['--gateway-port', '8081'],
    ['--mqtt-port', '1883'],
  ])('refuses %s %s (taken) before anything starts', { timeout: 30_000 }, async (option, port) => {
    const run = start([option, port]);
    expect(await run.exited).toBe(2);
    const err = run.stderr.join('\n');
    expect(err).toContain(`${option} ${port}: port ${port} is already in use`);
    expect(err).toContain('[START_PORT_TAKEN]');
    expect(run.stdout.join('\n')).not.toMatch(/Single-box mode|\[hub\]|\[gateway\]/);
  });

  it('refuses a port that is not a port, and two options asking for one port', {
    timeout: 30_000,
  }, async () => {
    const bad = start(['--port', '80a']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr.join('\n')).toContain('--port "80a": expected a port number');
    const twice = start(['--port', '9123', '--gateway-port', '9123']);
    expect(await twice.exited).toBe(2);
    expect(twice.stderr.join('\n')).toContain('--port and --gateway-port both ask for port 9123');
  });

  it('listens on the ports it is given', { timeout: 120_000 }, async () => {
    const [hub, health, mqtt] = (await freePorts(3)) as [number, number, number];
    const run = start([
      '--port',
      String(hub),
      '--gateway-port',
      String(health),
      '--mqtt-port',
      String(mqtt),
    ]);
    const text = await run.until(/^Press Ctrl-C to stop/, 90_000);
    expect(printedPort(text, 'Dashboard')).toBe(hub);
    expect(printedPort(text, 'Gateway health')).toBe(health);
    expect(printedPort(text, 'MQTT \\(devices\\)')).toBe(mqtt);
    expect(text).not.toContain('was taken');
    expect(await gatewayAnswers(health)).toBe(true);
    expect(await mqttAnswers(mqtt)).toBe(true);
    await stop(run);
  });

  it('stops what it started when a later part fails (a hub left behind would hold its port)', {
    timeout: 60_000,
  }, async () => {
    const broken = mkdtempSync(join(tmpdir(), 'iot-start-broken-'));
    mkdirSync(join(broken, 'outbox.sqlite')); // the gateway cannot open its outbox
    try {
      const run = start([], broken);
      expect(await run.exited).toBe(1);
      const all = [...run.stdout, ...run.stderr].join('\n');
      expect(all).toContain('gateway did not start (ports: --gateway-port ');
      expect(all).toContain('[START_APP_FAILED]');
      expect(all).toMatch(/hub stopped \(exit 0\)/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
