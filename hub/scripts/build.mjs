#!/usr/bin/env node
// Builds the hub into plain JavaScript: hub/dist/, what bin/iot-hub.js runs (no TypeScript
// toolchain at run time: tsx's loader cost the hub ~0.7 s of CPU and a loader thread at every
// start). esbuild bundles the hub's and the workspace packages' TypeScript, split at the CLI's
// lazy imports; npm dependencies stay external, loaded from node_modules as before, except
// kafkajs, bundled to patch its negative timeouts as the gateway does (no TimeoutNegativeWarning
// on Node 24) and its record decoding (no Long per record:
// scripts/build/kafkajs-record-decoder.mjs), and @sinclair/typebox and yaml, whose ~320 small
// ES module files cost ~60 ms of every start to resolve and load one by one (spawn to
// `consuming` ~430 -> ~370 ms here). The dashboard's static files are copied beside the
// bundle (plugin.ts finds them next to itself).
// `npm run build` runs it; so do `npm ci` (prepare), `npm test` and `npm start`.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { kafkajsEncoderAlloc } from '../../scripts/build/kafkajs-encoder-alloc.mjs';
import { kafkajsNegativeTimeout } from '../../scripts/build/kafkajs-negative-timeout.mjs';
import { kafkajsRecordDecoder } from '../../scripts/build/kafkajs-record-decoder.mjs';

/** Bundled despite being npm packages (with their subpaths): see the comment at the top. */
const BUNDLED = ['kafkajs', '@sinclair/typebox', 'yaml'];

const HUB = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(HUB, 'dist');

const options = {
  entryPoints: { cli: join(HUB, 'src/cli.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  plugins: [
    kafkajsNegativeTimeout,
    kafkajsRecordDecoder,
    kafkajsEncoderAlloc,
    {
      // npm packages stay external (loaded from node_modules at run time); only relative
      // imports and the workspace's own packages (@iot-stream/*, TypeScript) are bundled.
      name: 'external-npm-packages',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@iot-stream/') ||
          BUNDLED.some((p) => args.path === p || args.path.startsWith(`${p}/`))
            ? undefined
            : { path: args.path, external: true },
        );
      },
    },
  ],
  // kafkajs, CommonJS inside an ES module bundle, still calls require() for Node's builtins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
};

const started = Date.now();
rmSync(outdir, { recursive: true, force: true });
const result = await esbuild.build(options);
cpSync(join(HUB, 'src/http/dashboard/static'), join(outdir, 'static'), { recursive: true });
const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
console.log(
  `hub: built hub/dist (${(bytes / 1e6).toFixed(1)} MB with source maps) in ${Date.now() - started} ms`,
);
