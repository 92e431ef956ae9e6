import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../../scripts/lib/app-process.ts';
import { readMemory, sleep } from './proc.ts';

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
