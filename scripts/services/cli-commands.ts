import { rm } from 'node:fs/promises';
import {
  envLines,
  isAlive,
  readState,
  removeState,
  type ServerEntry,
  type ServicesState,
  servers,
  stateFile,
  stateFromServices,
  writeState,
} from './cli-state.ts';
import { errorMessage } from './errors.ts';
import { describeBrokers } from './kafka-probe.ts';
import { stopPid } from './pids.ts';
import { stderrLog } from './process.ts';
import { releaseAll } from './reaper.ts';
import { startServices } from './services.ts';

export interface UpOptions {
  stateDir: string;
  kafkaNodes: 1 | 3;
  kafka: boolean;
  influx: boolean;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const say = stderrLog;

/** Starts the servers detached, records them, prints KAFKA_BROKERS= / INFLUX_URL=. */
export async function up(options: UpOptions): Promise<number> {
  const existing = await readState(options.stateDir);
  if (existing !== undefined) {
    const dead = servers(existing).filter((s) => !isAlive(existing, s));
    if (dead.length === 0) {
      say(
        `services already up (${stateFile(options.stateDir)}); run \`down\` first to change them`,
      );
      for (const line of envLines(existing)) out(line);
      return 0;
    }
    say(`stale state: ${dead.map((s) => s.name).join(', ')} not running; cleaning up`);
    await stopAll(existing);
    await removeState(options.stateDir);
  }
  const started = Date.now();
  try {
    const services = await startServices({
      kafkaNodes: options.kafkaNodes,
      kafka: options.kafka,
      influx: options.influx,
      detached: true,
      log: say,
    });
    const state = stateFromServices(services);
    await writeState(options.stateDir, state);
    releaseAll(); // recorded: from now on they outlive this process
    say(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s; logs in ${services.dir}`);
    for (const line of envLines(state)) out(line);
    return 0;
  } catch (err) {
    say(errorMessage(err));
    return 1;
  }
}

/** Stops what `up` started (SIGTERM, 15 s, SIGKILL), removes the state file and the dir. */
export async function down(stateDir: string): Promise<number> {
  const state = await readState(stateDir);
  if (state === undefined) {
    say(`nothing to stop (no ${stateFile(stateDir)})`);
    return 0;
  }
  await stopAll(state);
  await removeState(stateDir);
  return 0;
}

async function stopAll(state: ServicesState): Promise<void> {
  await Promise.all(
    servers(state).map(async (server) => {
      const result = await stopPid(server.pid, { marker: state.dir, timeoutMs: 15_000 });
      const what = `${server.name} (pid ${server.pid}, ${server.address})`;
      if (result === 'not-running') say(`${what} was not running`);
      else if (result === 'killed') say(`killed ${what}: no clean stop within 15 s`);
      else say(`stopped ${what}`);
    }),
  );
  await rm(state.dir, { recursive: true, force: true });
  say(`removed ${state.dir}`);
}

/** One line per server: pid, address, whether it answers. 1 when anything is down. */
export async function status(stateDir: string): Promise<number> {
  const state = await readState(stateDir);
  if (state === undefined) {
    out(`services are not up (no ${stateFile(stateDir)}); start them with: npm run services -- up`);
    return 1;
  }
  const kafkaAnswer = state.kafka === undefined ? undefined : await probeKafka(state.kafka.brokers);
  const rows = await Promise.all(
    servers(state).map(async (server) => {
      const health = !isAlive(state, server)
        ? 'DOWN (process not running)'
        : server.name === 'influxd'
          ? await probeInflux(server.address)
          : kafkaHealth(server, kafkaAnswer);
      return { server, health };
    }),
  );
  const nameWidth = Math.max(...rows.map((r) => r.server.name.length));
  const addressWidth = Math.max(...rows.map((r) => r.server.address.length));
  for (const { server, health } of rows) {
    out(
      `${server.name.padEnd(nameWidth)}  pid ${String(server.pid).padEnd(7)} ${server.address.padEnd(addressWidth)}  ${health}`,
    );
  }
  out(`dir ${state.dir}`);
  return rows.every((r) => r.health.startsWith('up')) ? 0 : 1;
}

async function probeKafka(brokers: string[]): Promise<number[] | Error> {
  try {
    return await describeBrokers(brokers, 5_000);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function kafkaHealth(server: ServerEntry, answer: number[] | Error | undefined): string {
  if (answer === undefined || answer instanceof Error) {
    return `DOWN (describeCluster: ${answer?.message ?? 'not probed'})`;
  }
  const id = Number(server.name.replace('kafka-', ''));
  return answer.includes(id) ? 'up (registered)' : 'DOWN (not registered in the cluster)';
}

async function probeInflux(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 204 ? 'up (/ping 204)' : `DOWN (/ping answered ${res.status})`;
  } catch (err) {
    return `DOWN (/ping: ${errorMessage(err)})`;
  }
}
