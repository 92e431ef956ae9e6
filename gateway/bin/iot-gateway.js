#!/usr/bin/env node
// Runs the gateway's built JavaScript (gateway/dist: `npm run build`, which `npm ci`, `npm test`
// and `npm start` also run): no TypeScript toolchain at run time.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'iot-gateway: gateway/dist/cli.js is missing: build it with `npm run build` (in the repository)\n',
  );
  process.exit(1);
}
await import(entry.href);
