import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHECK = fileURLToPath(new URL('../check-systemd-unit.sh', import.meta.url));

// The gateway's unit, checked offline (no running systemd): it parses without a warning and its
// sandbox rates 3.0 or less in `systemd-analyze security`. Without systemd-analyze the script
// fails with the apt-get line to install it (scripts/install-system-deps.sh does), never skips.
describe('deploy/systemd/iot-gateway.service', () => {
  it('parses cleanly and rates OK (exposure <= 3.0) in systemd-analyze security', () => {
    const run = spawnSync('bash', [CHECK], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const overall = /Overall exposure level for iot-gateway\.service: (\d+\.\d)/.exec(run.stdout);
    expect(overall, run.stdout).not.toBeNull();
    expect(Number(overall?.[1])).toBeLessThanOrEqual(3);
  });
});
