import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, HarnessError } from './errors.ts';
import { freePorts } from './free-ports.ts';
import {
  findOnPath,
  type Log,
  pollUntil,
  runCommand,
  type ServerProcess,
  spawnServer,
  stderrLog,
} from './process.ts';

export interface StartInfluxOptions {
  /** Parent folder; InfluxDB gets `<dir>/influx/` (config, meta, data, wal, influxd.log). */
  dir: string;
  log?: Log;
  /** Server outlives this process (CLI `up`). Default false: it dies with this process. */
  detached?: boolean;
  readyTimeoutMs?: number;
  /**
   * `[http] auth-enabled`: every request needs credentials except the first CREATE USER ...
   * WITH ALL PRIVILEGES (see InfluxDB's authentication docs). Default false.
   */
  authEnabled?: boolean;
}

export interface InfluxServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  readonly logFile: string;
  /** undefined while stopped. */
  pid(): number | undefined;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** Restarts after `stop()`: same data dir, same port. Resolves once /ping answers. */
  start(): Promise<void>;
}

/** Returns the path of `influxd`, installing Debian's `influxdb` package when running as root. */
export async function ensureInfluxd(log: Log = stderrLog): Promise<string> {
  const found = findOnPath('influxd');
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0) {
    throw new HarnessError(
      'INFLUXD_MISSING',
      'influxd (InfluxDB 1.x) not found on PATH: install it with `sudo apt-get install influxdb`',
    );
  }
  log('influxd not found: apt-get install -y influxdb ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    runCommand('apt-get', ['install', '-y', 'influxdb'], { env, timeoutMs: 600_000 });
  try {
    try {
      await install();
    } catch {
      log('apt-get install failed; running apt-get update once and retrying ...');
      await runCommand('apt-get', ['update'], { env, timeoutMs: 600_000 });
      await install();
    }
  } catch (err) {
    throw new HarnessError(
      'INFLUXD_INSTALL_FAILED',
      `could not install influxdb: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  const installed = findOnPath('influxd') ?? findOnPath('influxd', '/usr/bin:/usr/sbin');
  if (installed === undefined) {
    throw new HarnessError(
      'INFLUXD_INSTALL_FAILED',
      'apt-get installed influxdb but influxd is still not on PATH',
    );
  }
  return installed;
}

/** influxd.conf for a throwaway loopback server; see /work/shared/notes/real-services.md. */
export function influxConfig(
  dir: string,
  httpPort: number,
  rpcPort: number,
  authEnabled = false,
): string {
  const q = (s: string) => JSON.stringify(s);
  return `reporting-disabled = true
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dir, 'meta'))}

[data]
  dir = ${q(join(dir, 'data'))}
  wal-dir = ${q(join(dir, 'wal'))}
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${httpPort}`)}
  log-enabled = false
  auth-enabled = ${authEnabled}

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  log-enabled = false
`;
}

/** Starts influxd on free loopback ports and waits until `GET /ping` answers 204. */
export async function startInflux(options: StartInfluxOptions): Promise<InfluxServer> {
  const log = options.log ?? stderrLog;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const influxd = await ensureInfluxd(log);
  const dir = join(options.dir, 'influx');
  const configFile = join(dir, 'influxd.conf');
  const logFile = join(dir, 'influxd.log');
  const [httpPort, rpcPort] = (await freePorts(2)) as [number, number];
  const url = `http://127.0.0.1:${httpPort}`;
  await mkdir(dir, { recursive: true });
  await writeFile(configFile, influxConfig(dir, httpPort, rpcPort, options.authEnabled));
  // INFLUXDB_* variables override the config file: keep the caller's out.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')),
  );

  let server: ServerProcess | undefined;
  const start = async () => {
    if (server?.running()) return;
    const started = Date.now();
    log('starting InfluxDB ...');
    const current = await spawnServer({
      name: 'influxd',
      command: influxd,
      args: ['run', '-config', configFile],
      cwd: dir,
      env,
      logFile,
      detached: options.detached ?? false,
    });
    server = current;
    try {
      await pollUntil({
        probe: async () => {
          const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
          return res.status === 204 ? true : undefined;
        },
        timeoutMs: readyTimeoutMs,
        intervalMs: 100,
        check: () => {
          if (!current.running()) {
            throw new HarnessError('SERVER_EXITED', 'influxd exited during start-up', { logFile });
          }
        },
        timeoutError: (last) =>
          new HarnessError(
            'INFLUX_NOT_READY',
            `InfluxDB /ping did not answer 204 within ${readyTimeoutMs} ms` +
              (last === undefined ? '' : ` (last probe: ${errorMessage(last)})`),
            { logFile, retriable: true },
          ),
      });
    } catch (err) {
      await current.stop('SIGKILL');
      throw err;
    }
    log(`InfluxDB ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${url}`);
  };

  await start();
  return {
    url,
    dir,
    logFile,
    pid: () => (server?.running() ? server.pid : undefined),
    stop: async () => {
      await server?.stop('SIGTERM', 15_000);
    },
    start,
  };
}
