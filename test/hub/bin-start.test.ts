import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupLimit } from '../../hub/bin/start-settings.js';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';
import { memoryCgroup, nodeInCgroup } from '../../scripts/lib/memory-cgroup.ts';
import { freePorts } from '../../scripts/services/free-ports.ts';

// The hub's bin starts Node with its memory settings itself (hub/bin/start-settings.js): the
// process that runs the hub (the same pid its starter sees) has them, however it was started.
// (Its compile cache: test/cli/config-refusals.test.ts.)
const dir = mkdtempSync(join(tmpdir(), 'iot-hub-bin-'));
let hub: AppProcess | undefined;

afterAll(async () => {
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function procList(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
}

async function started(env: Record<string, string>, nodeFlags: string[] = [], node?: string) {
  const [port = 0] = await freePorts(1);
  hub = spawnApp({
    name: 'hub',
    bin: BINS.hub,
    nodeFlags,
    ...(node ? { node } : {}),
    env: {
      KAFKA_BROKERS: '',
      INFLUX_URL: '',
      HUB_HTTP_PORT: String(port),
      HUB_DATA_DIR: dir,
      ...env,
    },
  });
  await hub.waitFor((l) => l.msg === 'REST API listening', 30_000);
  const pid = hub.child.pid as number;
  const memory = hub.lines.find((l) => l.msg === 'memory settings');
  const result = { cmdline: procList(pid, 'cmdline'), environ: procList(pid, 'environ'), memory };
  await hub.stop();
  hub = undefined;
  return result;
}

describe('the hub bin', () => {
  it('runs the hub with 4 MB semi-spaces and the allocator settings', {
    timeout: 60_000,
  }, async () => {
    const { cmdline, environ, memory } = await started({});
    expect(cmdline).toContain('--max-semi-space-size=4');
    expect(environ).toContain('MALLOC_ARENA_MAX=2');
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    // A heap limit only when this runner is under a memory limit itself (a CI container).
    const limited = cgroupLimit(process.constrainedMemory?.() ?? 0, totalmem()) !== undefined;
    expect(cmdline.some((a) => a.startsWith('--max-old-space-size'))).toBe(limited);
    expect(memory?.memoryLimitMb === undefined).toBe(!limited);
    expect(memory?.heapLimitMb).toEqual(expect.any(Number));
  });

  it('sizes the heap to a memory limit (a cgroup, as a container or MemoryMax): 9/16 of it', {
    timeout: 60_000,
  }, async () => {
    // Node's own heap limit under 1 GiB is about half of it (560 MB with its default young
    // generation), where a hub with 100k series collects all the time (README, Memory).
    // Root and a memory controller are needed, as on CI; without them this fails, saying so.
    const group = memoryCgroup(`iot-hub-test-${process.pid}`, 2 ** 30);
    const wrapper = nodeInCgroup(group, dir);
    try {
      const { cmdline, memory } = await started({}, [], wrapper);
      expect(cmdline).toContain('--max-old-space-size=576');
      expect(memory).toMatchObject({ memoryLimitMb: 1024 });
      // V8's limit is the old generation's plus the young one's (3 semi-spaces of 4 MB).
      expect(memory?.heapLimitMb).toBeGreaterThanOrEqual(576);
      expect(memory?.heapLimitMb).toBeLessThan(640);
    } finally {
      group.remove();
    }
  });

  it('keeps settings it was given', { timeout: 60_000 }, async () => {
    const { cmdline, environ } = await started({ MALLOC_ARENA_MAX: '4' }, [
      '--max-semi-space-size=16',
    ]);
    expect(cmdline.filter((a) => a.startsWith('--max-semi-space-size'))).toEqual([
      '--max-semi-space-size=16',
    ]);
    expect(environ).toContain('MALLOC_ARENA_MAX=4');
  });

  it('waits for Kafka coming up, saying so, and stops at once on SIGTERM meanwhile, exiting 0', {
    timeout: 60_000,
  }, async () => {
    // Before, kafkajs's giving up on a refused connection (~10 s) ended the start-up (exit 1),
    // and the signals' handlers came only once the start-up was done: a SIGTERM while Kafka
    // was awaited killed the process by the default action (no exit code).
    const [port = 0, nobody = 0] = await freePorts(2);
    const texts: string[] = [];
    hub = spawnApp({
      name: 'hub-waiting',
      bin: BINS.hub,
      env: {
        KAFKA_BROKERS: `127.0.0.1:${nobody}`,
        INFLUX_URL: '',
        HUB_HTTP_PORT: String(port),
        HUB_DATA_DIR: join(dir, 'waiting'),
      },
      onText: (t) => texts.push(t),
    });
    await hub.waitFor((l) => String(l.msg).includes('not reachable yet'), 30_000);
    const sent = Date.now();
    hub.child.kill('SIGTERM');
    const code = await hub.exited;
    expect(hub.child.signalCode).toBeNull();
    expect(code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(texts.join('')).toContain('SIGTERM during start-up, stopping');
    hub = undefined;
  });
});
