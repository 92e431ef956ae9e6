#!/usr/bin/env node
// Runs the gateway's built JavaScript (gateway/dist: `npm run build`, which `npm ci`, `npm test`
// and `npm start` also run): no TypeScript toolchain at run time.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { setFlagsFromString } from 'node:v8';

// Memory on a Pi: under load the gateway keeps about 30 MB alive but allocates fast, and V8's
// default lets the old generation grow to four times what survived before it collects (about
// 240 MB RSS in the benchmark); growing it by at most 30% keeps the peak near 160 MB for a few
// more, short, collections. `node --heap-growing-percent=N` on the command line wins.
if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) {
  setFlagsFromString('--heap-growing-percent=30');
}

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'iot-gateway: gateway/dist/cli.js is missing: build it with `npm run build` (in the repository)\n',
  );
  process.exit(1);
}
// Node's compile cache: the gateway's modules compiled once and kept on disk (os.tmpdir()/
// node-compile-cache, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a
// restart skips compiling them again (more on a Pi, where a restart after a crash is downtime).
module.enableCompileCache?.();
await import(entry.href);
