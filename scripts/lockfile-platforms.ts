// The package registry these machines use serves Biome's native binary only for Linux, so
// `npm install` writes a lockfile without Biome's other platform packages and `npm ci` then
// refuses it ("Missing: @biomejs/cli-darwin-arm64 from lock file"). This adds the missing
// entries (version and platform, no integrity: npm checks it where the registry serves them).
// Run `npm run fix-lockfile` after any `npm install` that changes package-lock.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './lib/app-process.ts';

const path = join(REPO_ROOT, 'package-lock.json');
const lock = JSON.parse(readFileSync(path, 'utf8')) as {
  packages: Record<string, Record<string, unknown>>;
};
const biome = lock.packages['node_modules/@biomejs/biome'];
const optional = (biome?.optionalDependencies ?? {}) as Record<string, string>;
let added = 0;
for (const [name, version] of Object.entries(optional)) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  const [, os = '', cpu = '', libc] = /cli-(\w+)-(\w+?)(?:-(musl))?$/.exec(name) ?? [];
  lock.packages[key] = {
    version,
    cpu: [cpu],
    dev: true,
    ...(os === 'linux' ? { libc: [libc ?? 'glibc'] } : {}),
    license: 'MIT OR Apache-2.0',
    optional: true,
    os: [os],
    engines: { node: '>=14.21.3' },
  };
  added += 1;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lockfile: added ${added} platform entries for Biome`);
