import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A pseudo-terminal pair made by socat: `gateway` and `device` are two linked tty paths, a real
 * kernel serial path for the real serialport bindings; what one end writes, the other reads.
 * `stop()` is an unplug; `start()` again (same paths) is a replug.
 */
export class PtyPair {
  readonly gateway: string;
  readonly device: string;
  private socat: ChildProcess | undefined;

  constructor(dir = mkdtempSync(join(tmpdir(), 'iot-pty-'))) {
    this.gateway = join(dir, 'gateway-tty');
    this.device = join(dir, 'device-tty');
  }

  async start(): Promise<this> {
    this.socat = spawn(
      'socat',
      [`pty,raw,echo=0,link=${this.gateway}`, `pty,raw,echo=0,link=${this.device}`],
      { stdio: 'ignore' },
    );
    this.socat.once('error', () => undefined);
    for (let i = 0; !(existsSync(this.gateway) && existsSync(this.device)); i += 1) {
      if (i > 300)
        throw new Error('socat did not create the pseudo-terminal pair (is socat installed?)');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this;
  }

  async stop(): Promise<void> {
    const socat = this.socat;
    if (!socat || socat.exitCode !== null) return;
    const exited = new Promise((r) => socat.once('exit', r));
    socat.kill('SIGTERM');
    await exited;
    for (let i = 0; existsSync(this.gateway) && i < 100; i += 1)
      await new Promise((r) => setTimeout(r, 10));
  }
}
