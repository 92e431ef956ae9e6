import { fileURLToPath } from 'node:url';
import { endChild, forkTs, nextMessage } from './children.ts';
import type { LoadConfig, LoadDone } from './messages.ts';

const LOAD_DEVICES = fileURLToPath(new URL('../load-devices.ts', import.meta.url));

/**
 * Runs the device fleet (test/bench/load-devices.ts) in a child process: connects every
 * device, then starts publishing and runs `during` alongside (e.g. polling Kafka offsets).
 */
export async function runLoad<T>(
  config: Omit<LoadConfig, 'type'>,
  during: (goAt: number, devicesPid: number | undefined) => Promise<T>,
  timeoutMs = 600_000,
): Promise<{ done: LoadDone; during: T }> {
  const child = forkTs(LOAD_DEVICES);
  try {
    const ready = nextMessage(child, 'ready', 60_000);
    child.send({ type: 'config', ...config } satisfies LoadConfig);
    await ready;
    const finished = nextMessage(child, 'done', timeoutMs);
    finished.catch(() => undefined); // awaited below; `during` may fail first
    const goAt = Date.now();
    child.send({ type: 'go' });
    const result = await during(goAt, child.pid);
    return { done: await finished, during: result };
  } finally {
    await endChild(child);
  }
}
