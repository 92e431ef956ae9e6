import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

/**
 * A CommonJS module of node_modules as the apps' builds make it: bundled by esbuild with a
 * build plugin that patches it (scripts/build/), then loaded. Also its text, for checks.
 */
export async function patchedModule<T>(
  entry: string,
  plugin: unknown,
): Promise<{ exports: T; text: string }> {
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
    plugins: [plugin as esbuild.Plugin],
  });
  const text = out.outputFiles[0]?.text ?? '';
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', text)(module, module.exports, require);
  return { exports: module.exports as T, text };
}
