import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePorts } from '../../../scripts/services/free-ports.ts';
import { sleep } from './proc.ts';

export interface Mosquitto {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts Debian's `mosquitto` on a free loopback port, configured so the broker never limits
 * the baseline: no cap on QoS 1 messages in flight to or queued for the subscriber (the
 * defaults, 20 and 1000, would throttle it or drop messages).
 */
export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const [port] = await freePorts(1);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`mosquitto exited with code ${code}`)));
  });
  await Promise.race([failed, waitForPort(port as number)]);
  failed.catch(() => undefined);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`mosquitto: port ${port} not open`);
    await sleep(50);
  }
}
