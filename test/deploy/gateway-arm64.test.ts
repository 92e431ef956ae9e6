import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { installedGatewaySuite } from './installed-gateway-suite.ts';

// The same tarball, installed by an arm64 npm and run by an arm64 Node (the Raspberry Pi's
// architecture: Pi 3, 4, 5 and Zero 2 W on a 64-bit OS) under qemu user-mode emulation
// (scripts/arm64-node.sh), so its native addons are the arm64 ones. Also `npm run test:arm64`.
installedGatewaySuite({
  platform: 'linux-arm64 (qemu)',
  arch: 'arm64',
  binDir: async () => {
    const { stdout } = await promisify(execFile)(join(REPO_ROOT, 'scripts', 'arm64-node.sh'));
    return stdout.trim();
  },
});
