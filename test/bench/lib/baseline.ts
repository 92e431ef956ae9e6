import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../scripts/lib/app-process.ts';
import { readMemory, sleep } from './proc.ts';

const NATIVE = ['better-sqlite3', 'serialport', '@serialport/*'];

/** RSS (MB) of `node <args>` after it has idled for `settleMs`. */
export async function idleNodeRss(args: string[], settleMs = 1500): Promise<number | undefined> {
  const child = spawn(process.execPath, args, { stdio: 'ignore', cwd: REPO_ROOT });
  await sleep(settleMs);
  const memory = child.pid === undefined ? undefined : readMemory(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return memory?.rssMb;
}

/**
 * The gateway bundled into one plain CommonJS file with esbuild (a dependency of tsx), so it
 * runs without tsx: shows what tsx costs in memory. Packages with native addons stay external
 * and are found through NODE_PATH. Undefined (with the reason logged) when bundling fails.
 */
export async function bundleGateway(
  dir: string,
  log: (m: string) => void,
): Promise<string | undefined> {
  const outfile = join(dir, 'iot-gateway.bundle.cjs');
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: [join(REPO_ROOT, 'gateway/src/cli.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: NATIVE,
      outfile,
      logLevel: 'error',
    });
    return outfile;
  } catch (err) {
    log(`could not bundle the gateway without tsx: ${(err as Error).message}`);
    return undefined;
  }
}

export const NODE_PATH = join(REPO_ROOT, 'node_modules');
