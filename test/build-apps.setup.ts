import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/lib/app-process.ts';

/**
 * Vitest global setup for every project: tests run the gateway's and the hub's built
 * JavaScript (their bins run gateway/dist and hub/dist), so both are rebuilt from the current
 * sources first (under a second each).
 */
export default function setup(): void {
  for (const app of ['gateway', 'hub'])
    execFileSync(process.execPath, [join(REPO_ROOT, app, 'scripts/build.mjs')], {
      stdio: 'inherit',
    });
}
