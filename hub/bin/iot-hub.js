#!/usr/bin/env node
// Runs the hub's built JavaScript (hub/dist: `npm run build`, which `npm ci`, `npm test` and
// `npm start` also run): no TypeScript toolchain at run time.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cgroupLimit, startSettings } from './start-settings.js';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'iot-hub: hub/dist/cli.js is missing: build it with `npm run build` (in the repository)\n',
  );
  process.exit(1);
}

// Memory settings that Node and the C library read only when a process starts (README,
// Memory): the bin replaces itself once with them, however it was started (npm start, compose,
// an installed package, a test), before it loads anything else. Settings already given win.
// Under a memory limit (a container's, a systemd unit's MemoryMax) the heap is sized to it.
const limit = cgroupLimit(process.constrainedMemory?.() ?? 0, totalmem());
const start = startSettings(process.env, process.execArgv, limit);
if (start && typeof process.execve !== 'function')
  // Node before 22.15: the hub runs without them (more memory, same behaviour).
  process.stderr.write(
    `iot-hub: start-up memory settings not applied: Node ${process.version} cannot replace its process (22.15 or newer can)\n`,
  );
else if (start) {
  const script = fileURLToPath(import.meta.url);
  try {
    process.execve(
      process.execPath,
      [process.execPath, ...start.flags, ...process.execArgv, script, ...process.argv.slice(2)],
      start.env,
    );
  } catch (err) {
    // Not on this platform: the hub runs without them (more memory, same behaviour).
    process.stderr.write(`iot-hub: start-up memory settings not applied: ${err}\n`);
  }
}
// Node's compile cache: the hub's modules compiled once and kept on disk (os.tmpdir()/
// node-compile-cache, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a
// restart skips compiling them again (~40 ms on the development machine, more on a Pi).
module.enableCompileCache?.();
await import(entry.href);
