#!/usr/bin/env node
// Runs the hub's built JavaScript (hub/dist: `npm run build`, which `npm ci`, `npm test` and
// `npm start` also run): no TypeScript toolchain at run time. Node flags the hub wants (8 MB
// semi-spaces, HUB_NODE_FLAGS in scripts/lib/app-process.ts) go on the node command line.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'iot-hub: hub/dist/cli.js is missing: build it with `npm run build` (in the repository)\n',
  );
  process.exit(1);
}
await import(entry.href);
