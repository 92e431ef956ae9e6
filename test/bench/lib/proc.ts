import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Resident memory of a process, from /proc/<pid>/status (MB). */
export interface Memory {
  rssMb: number;
  /** Peak resident set size so far (VmHWM). */
  hwmMb: number;
}

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssMb: kbField(status, 'VmRSS') / 1024, hwmMb: kbField(status, 'VmHWM') / 1024 };
  } catch {
    return undefined; // gone
  }
}

function kbField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

let clockTicks: number | undefined;

/** CPU seconds (user + system) a process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm) ": state is 3, utime 14, stime 15 (1-based, see proc(5)).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    return (Number(rest[11]) + Number(rest[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until `stop()`, which also reads the peak (VmHWM). */
export class RssSampler {
  private readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;
  private hwmMb = 0;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const memory = readMemory(this.pid);
    if (!memory) return;
    this.samples.push(memory.rssMb);
    this.hwmMb = memory.hwmMb;
  }

  /** Call while the process is still alive, so the last sample and VmHWM are current. */
  stop(): { maxRssMb: number; lastRssMb: number; hwmMb: number; samples: number } {
    this.sample();
    clearInterval(this.timer);
    return {
      maxRssMb: Math.max(0, ...this.samples),
      lastRssMb: this.samples.at(-1) ?? 0,
      hwmMb: this.hwmMb,
      samples: this.samples.length,
    };
  }
}

/** CPU seconds used by each named process between construction and `stop()`. */
export class CpuMeter {
  private readonly start = new Map<string, number>();
  private readonly startedAt = Date.now();

  constructor(private readonly pids: Record<string, number | undefined>) {
    for (const [name, pid] of Object.entries(pids)) {
      const cpu = pid === undefined ? undefined : cpuSeconds(pid);
      if (cpu !== undefined) this.start.set(name, cpu);
    }
  }

  /** name -> CPU seconds, plus `wall` (seconds). */
  stop(): Record<string, number> {
    const used: Record<string, number> = { wall: (Date.now() - this.startedAt) / 1000 };
    for (const [name, before] of this.start) {
      const pid = this.pids[name];
      const after = pid === undefined ? undefined : cpuSeconds(pid);
      if (after !== undefined) used[name] = round(after - before, 2);
    }
    return used;
  }
}

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
