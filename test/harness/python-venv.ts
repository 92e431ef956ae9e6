import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../../scripts/services/errors.ts';
import { findOnPath, type Log, runCommand, stderrLog } from '../../scripts/services/process.ts';

const MARKER = '.complete.json';

/** A Python tool the tests run from a venv of its own, pinned so a run is the same tomorrow. */
export interface PythonTool {
  /** `venv-<name>-<version>` in the cache. */
  name: string;
  version: string;
  /** What pip installs (`pymodbus[serial]==3.16.1`). */
  requirements: string[];
  /** Arguments to the venv's python whose output must include `version` (a smoke test). */
  versionCheck: string[];
  /** Which test needs it and why, for the error when python3 is missing. */
  purpose: string;
}

/**
 * `${XDG_CACHE_HOME:-$HOME/.cache}/iot-stream/venv-<name>-<version>`: beside the Kafka jars
 * (kafka-jars.ts), outside the repository, shared by clones.
 */
export function venvDir(tool: PythonTool, env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'iot-stream', `venv-${tool.name}-${tool.version}`);
}

/**
 * Makes sure the tool's venv is in the cache and returns its python (run modules with `-m`, so
 * the venv may be renamed into place: its scripts would carry the temporary path). Built in a
 * temporary folder, marked complete, then renamed, so a half-finished install is never used.
 * Throws (never skips) when python3, its venv module or PyPI is missing.
 */
export async function ensurePythonTool(
  tool: PythonTool,
  log: Log = stderrLog,
  venv = venvDir(tool),
): Promise<string> {
  const python = join(venv, 'bin', 'python');
  if (await isComplete(venv, tool.version)) return python;
  const system = findOnPath('python3');
  if (system === undefined)
    throw new HarnessError(
      'PYTHON_MISSING',
      `python3 not found on PATH: ${tool.purpose} in a Python venv (sudo apt-get install python3 python3-venv)`,
    );
  log(`installing ${tool.name} ${tool.version} into ${venv} ...`);
  const tmp = `${venv}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await runCommand(system, ['-m', 'venv', tmp], { timeoutMs: 120_000 });
    await runCommand(
      join(tmp, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...tool.requirements],
      { timeoutMs: 600_000 },
    );
    const { stdout } = await runCommand(join(tmp, 'bin', 'python'), tool.versionCheck);
    if (!stdout.includes(tool.version))
      throw new Error(`${tool.versionCheck.join(' ')} printed ${JSON.stringify(stdout.trim())}`);
    await writeFile(join(tmp, MARKER), `${JSON.stringify({ version: tool.version })}\n`);
    if (await isComplete(venv, tool.version)) return python; // someone else finished first
    await rm(venv, { recursive: true, force: true });
    await rename(tmp, venv);
    log(`installed ${tool.name} ${tool.version}`);
    return python;
  } catch (err) {
    if (await isComplete(venv, tool.version)) return python; // lost a rename race to a complete copy
    throw new HarnessError(
      'PYTHON_TOOL_INSTALL_FAILED',
      `could not install ${tool.name} ${tool.version} into a venv with ${system} (needs python3-venv and PyPI): ${(err as Error).message}`,
      { cause: err, retriable: true },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function isComplete(venv: string, version: string): Promise<boolean> {
  const marker = join(venv, MARKER);
  if (!existsSync(marker) || !existsSync(join(venv, 'bin', 'python'))) return false;
  try {
    const parsed = JSON.parse(await readFile(marker, 'utf8')) as { version: string };
    return parsed.version === version;
  } catch {
    return false;
  }
}
