import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';

// docker-compose.yml cannot run here (no Docker engine); Debian's docker-compose still parses
// and validates it, which catches the mistakes that would stop `docker compose up`.
describe('docker-compose.yml', () => {
  it('is accepted by docker-compose config', () => {
    const out = execFileSync(
      'docker-compose',
      ['-f', 'docker-compose.yml', 'config', '--services'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    // prometheus is in the "observability" profile; `config --services` lists it anyway
    // (test/grafana/provisioning.test.ts checks the profile and the rest of its wiring).
    expect(out.trim().split('\n').sort()).toEqual([
      'gateway',
      'grafana',
      'hub',
      'influxdb',
      'kafka',
      'prometheus',
      'simulator',
    ]);
  });
});
