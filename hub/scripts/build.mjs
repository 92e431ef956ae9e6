#!/usr/bin/env node
// Builds the hub into plain JavaScript: hub/dist/, what bin/iot-hub.js runs (no TypeScript
// toolchain at run time: tsx's loader cost the hub ~0.7 s of CPU and a loader thread at every
// start). esbuild bundles the hub's and the workspace packages' TypeScript, split at the CLI's
// lazy imports; every npm dependency stays external, loaded from node_modules as before. The
// dashboard's static files are copied beside the bundle (plugin.ts finds them next to itself).
// `npm run build` runs it; so do `npm ci` (prepare), `npm test` and `npm start`.
import { cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

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
    {
      // npm packages stay external (loaded from node_modules at run time); only relative
      // imports and the workspace's own packages (@iot-stream/*, TypeScript) are bundled.
      name: 'external-npm-packages',
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@iot-stream/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
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
