import type { Log } from '../../scripts/services/process.ts';
import { ensurePythonTool, type PythonTool, venvDir } from './python-venv.ts';

/** Pinned, so a run is the same run tomorrow; bump it on purpose. */
export const SCHEMATHESIS_VERSION = '4.32.5';

export const SCHEMATHESIS: PythonTool = {
  name: 'schemathesis',
  version: SCHEMATHESIS_VERSION,
  requirements: [`schemathesis==${SCHEMATHESIS_VERSION}`],
  versionCheck: ['-m', 'schemathesis.cli', '--version'],
  purpose: 'the OpenAPI contract test runs Schemathesis',
};

/** `~/.cache/iot-stream/venv-schemathesis-<version>` (see python-venv.ts). */
export const schemathesisVenvDir = (env: NodeJS.ProcessEnv = process.env) =>
  venvDir(SCHEMATHESIS, env);

/**
 * Makes sure a venv with Schemathesis is in the cache and returns the command that runs it:
 * `[python, '-m', 'schemathesis.cli']`. Throws (never skips) when it cannot be installed.
 */
export async function ensureSchemathesis(
  log?: Log,
  venv = schemathesisVenvDir(),
): Promise<string[]> {
  return [await ensurePythonTool(SCHEMATHESIS, log, venv), '-m', 'schemathesis.cli'];
}
