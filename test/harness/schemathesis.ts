import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../../scripts/services/errors.ts';
import { findOnPath, type Log, runCommand, stderrLog } from '../../scripts/services/process.ts';

/** Pinned, so a run is the same run tomorrow; bump it on purpose. */
export const SCHEMATHESIS_VERSION = '4.32.5';
const MARKER = '.complete.json';

/**
 * `${XDG_CACHE_HOME:-$HOME/.cache}/iot-stream/venv-schemathesis-<version>`: beside the Kafka
 * jars (kafka-jars.ts), outside the repository, shared by clones.
 */
export function schemathesisVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'iot-stream', `venv-schemathesis-${SCHEMATHESIS_VERSION}`);
}

/**
 * Makes sure a Python venv with Schemathesis is in the cache and returns the command that runs
 * it: `[python, '-m', 'schemathesis.cli']` (the venv's python, so the venv may be renamed into
 * place: its `st` script would carry the temporary path). Built in a temporary folder, marked
 * complete, then renamed, so a half-finished install is never used. Throws (never skips) when
 * python3, its venv module or PyPI is missing.
 */
export async function ensureSchemathesis(
  log: Log = stderrLog,
  venv = schemathesisVenvDir(),
): Promise<string[]> {
  const command = [join(venv, 'bin', 'python'), '-m', 'schemathesis.cli'];
  if (await isComplete(venv)) return command;
  const python = findOnPath('python3');
  if (python === undefined)
    throw new HarnessError(
      'PYTHON_MISSING',
      'python3 not found on PATH: the OpenAPI contract test runs Schemathesis in a Python venv (sudo apt-get install python3 python3-venv)',
    );
  log(`installing Schemathesis ${SCHEMATHESIS_VERSION} into ${venv} ...`);
  const tmp = `${venv}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await runCommand(python, ['-m', 'venv', tmp], { timeoutMs: 120_000 });
    await runCommand(
      join(tmp, 'bin', 'python'),
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `schemathesis==${SCHEMATHESIS_VERSION}`,
      ],
      { timeoutMs: 600_000 },
    );
    const { stdout } = await runCommand(join(tmp, 'bin', 'python'), [
      '-m',
      'schemathesis.cli',
      '--version',
    ]);
    if (!stdout.includes(SCHEMATHESIS_VERSION))
      throw new Error(`schemathesis --version printed ${JSON.stringify(stdout.trim())}`);
    await writeFile(join(tmp, MARKER), `${JSON.stringify({ version: SCHEMATHESIS_VERSION })}\n`);
    if (await isComplete(venv)) return command; // someone else finished first
    await rm(venv, { recursive: true, force: true });
    await rename(tmp, venv);
    log(`installed Schemathesis ${SCHEMATHESIS_VERSION}`);
    return command;
  } catch (err) {
    if (await isComplete(venv)) return command; // lost a rename race to a complete copy
    throw new HarnessError(
      'SCHEMATHESIS_INSTALL_FAILED',
      `could not install Schemathesis ${SCHEMATHESIS_VERSION} into a venv with ${python} (needs python3-venv and PyPI): ${(err as Error).message}`,
      { cause: err, retriable: true },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function isComplete(venv: string): Promise<boolean> {
  const marker = join(venv, MARKER);
  if (!existsSync(marker) || !existsSync(join(venv, 'bin', 'python'))) return false;
  try {
    const { version } = JSON.parse(await readFile(marker, 'utf8')) as { version: string };
    return version === SCHEMATHESIS_VERSION;
  } catch {
    return false;
  }
}
