#!/usr/bin/env node
// Builds the gateway into plain JavaScript: gateway/dist/, what bin/iot-gateway.js runs (no
// TypeScript toolchain at run time). One esbuild bundle with the workspace packages and the
// pure-JavaScript dependencies inside, split at the CLI's lazy imports so --help stays fast;
// the packages with native addons stay outside (the package's only runtime dependencies).
// `npm run build` runs it; so do `npm ci` (prepare), `npm test` and `npm start`. --watch rebuilds on change.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { kafkajsEncoderAlloc } from '../../scripts/build/kafkajs-encoder-alloc.mjs';
import { kafkajsNegativeTimeout } from '../../scripts/build/kafkajs-negative-timeout.mjs';

const GATEWAY = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Native addons: loaded from node_modules at run time (dependencies in package.json). */
export const EXTERNAL = ['better-sqlite3', 'serialport', '@serialport/*'];

const options = {
  plugins: [kafkajsNegativeTimeout, kafkajsEncoderAlloc],
  entryPoints: { cli: join(GATEWAY, 'src/cli.ts') },
  outdir: join(GATEWAY, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: EXTERNAL,
  // @platformatic/kafka's WebAssembly (CRC-32C, lz4, snappy): the package's default entry reads
  // native.wasm beside itself, which a bundle does not have; this one carries it inline.
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
  // CommonJS dependencies inside an ES module bundle still call require() for Node's builtins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
};

if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('gateway: watching gateway/src for changes');
} else {
  const started = Date.now();
  rmSync(options.outdir, { recursive: true, force: true });
  const result = await esbuild.build(options);
  // What an installed package needs beside the code: the systemd unit and the Pi guide.
  const share = join(options.outdir, 'share');
  mkdirSync(share);
  copyFileSync(
    join(GATEWAY, '../deploy/systemd/iot-gateway.service'),
    join(share, 'iot-gateway.service'),
  );
  copyFileSync(join(GATEWAY, '../docs/raspberry-pi.md'), join(share, 'raspberry-pi.md'));
  const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  console.log(
    `gateway: built gateway/dist (${(bytes / 1e6).toFixed(1)} MB with source maps) in ${Date.now() - started} ms`,
  );
}
