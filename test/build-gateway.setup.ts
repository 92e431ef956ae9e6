import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/lib/app-process.ts';

/**
 * Vitest global setup for both projects: tests run the gateway's built JavaScript (its bin runs
 * gateway/dist), so it is rebuilt from the current sources first (under a second).
 */
export default function setup(): void {
  execFileSync(process.execPath, [join(REPO_ROOT, 'gateway/scripts/build.mjs')], {
    stdio: 'inherit',
  });
}
