import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';
import { ensurePythonTool, type PythonTool } from '../harness/python-venv.ts';

/** pymodbus, the independent Modbus implementation the gateway is tested against. Pinned. */
export const PYMODBUS: PythonTool = {
  name: 'pymodbus',
  version: '3.16.1',
  requirements: ['pymodbus[serial]==3.16.1'],
  versionCheck: ['-c', 'import pymodbus, serial; print(pymodbus.__version__)'],
  purpose: 'the Modbus tests run a pymodbus server',
};

const SCRIPT = join(REPO_ROOT, 'test', 'modbus', 'modbus_server.py');
export const FIXTURE_FILE = join(REPO_ROOT, 'test', 'modbus', 'fixture.json');

/** One value the pymodbus device serves (test/modbus/fixture.json). */
export interface FixtureRegister {
  metric: string;
  kind: 'holding' | 'input' | 'coil' | 'discrete';
  address: number;
  type: 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'bool';
  wordOrder?: 'big' | 'little';
  byteOrder?: 'big' | 'little';
  scale?: number;
  offset?: number;
  unit?: string;
  value: number | boolean;
}

export const FIXTURE: FixtureRegister[] = (
  JSON.parse(readFileSync(FIXTURE_FILE, 'utf8')) as { registers: FixtureRegister[] }
).registers;

/** The gateway's register list for the fixture (what a config file says). */
export const fixtureRegisters = (fixture = FIXTURE) =>
  fixture.map(({ value: _, ...register }) => register);

/** What the gateway must report for a fixture value: float32 rounded, then scale and offset. */
export function expectedValue(r: FixtureRegister): number {
  if (typeof r.value === 'boolean') return r.value ? 1 : 0;
  const raw = r.type === 'float32' ? Math.fround(r.value) : r.value;
  return raw * (r.scale ?? 1) + (r.offset ?? 0);
}

export type DeviceCommand =
  | { unit: number; delayMs: number }
  | { unit: number; exception: number }
  | { unit: number; set: { kind: string; address: number; words?: number[]; bits?: boolean[] } };

/**
 * The pymodbus server script (test/modbus/modbus_server.py) as a child process: Modbus RTU on
 * a serial path (a PtyPair's device end) or TCP on 127.0.0.1, serving the fixture on each unit.
 * `start()` rejects, never skips, when pymodbus cannot be installed or the server does not
 * come up; `stop()` is the device switched off (a TCP server gone, a line gone quiet).
 */
export class PyModbusDevice {
  private child: ChildProcessWithoutNullStreams | undefined;
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private stderr = '';

  constructor(
    private readonly options: { units: number[]; rtu?: string; tcpPort?: number; baud?: number },
  ) {}

  async start(timeoutMs = 30_000): Promise<this> {
    const python = await ensurePythonTool(PYMODBUS);
    const where = this.options.rtu
      ? ['--rtu', this.options.rtu, '--baud', String(this.options.baud ?? 9600)]
      : ['--tcp', String(this.options.tcpPort)];
    const args = [
      SCRIPT,
      '--fixture',
      FIXTURE_FILE,
      '--units',
      this.options.units.join(','),
      ...where,
    ];
    const child = spawn(python, args, { stdio: 'pipe' });
    this.child = child;
    this.lines = [];
    this.stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line.trim());
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.once('exit', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
    await this.expect('ready', timeoutMs);
    return this;
  }

  /** Sends one command and waits for the device's "ok". */
  async command(cmd: DeviceCommand): Promise<void> {
    this.child?.stdin.write(`${JSON.stringify(cmd)}\n`);
    await this.expect('ok', 10_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  private async expect(line: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.lines.indexOf(line);
      if (at >= 0) {
        this.lines.splice(at, 1);
        return;
      }
      const child = this.child;
      if (!child || child.exitCode !== null || child.signalCode !== null || Date.now() > deadline)
        throw new Error(
          `pymodbus device did not say "${line}" (exit ${child?.exitCode ?? child?.signalCode}): ${this.stderr}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
