import { totalmem } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * Sets how far V8 lets the old generation grow past what survived its last full collection:
 * a factor of 1 + percent/100 (`memory.heapGrowingPercent`, default 50). V8's own factor depends on the heap
 * limit, which it derives from the machine's memory: up to 4 on a machine with 16 GB or more,
 * so a hub whose live heap is 50 MB reached 300-360 MB of RSS under a backlog, mostly garbage;
 * at 1.5 the same run peaks far lower (README, Memory). 0 gives V8's own factor back. V8
 * reads the flag at every collection; the bin sets it before it loads the app (cli.ts), and
 * startHub again for a hub started in-process.
 */
export function setHeapGrowing(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`); // 0 is V8's own default
}

/**
 * What bounds this process's memory, for the start-up log: V8's heap limit (the bin sizes it
 * to a cgroup's memory limit: hub/bin/start-settings.js) and that limit, when there is one.
 */
export function memoryLimits(): { heapLimitMb: number; memoryLimitMb?: number } {
  const mb = (n: number) => Math.round(n / 2 ** 20);
  // As the bin reads it (start-settings.js, cgroupLimit): 0 or more than the machine has is none.
  const constrained = process.constrainedMemory?.() ?? 0;
  const limit = constrained > 0 && constrained < totalmem() ? constrained : undefined;
  return {
    heapLimitMb: mb(getHeapStatistics().heap_size_limit),
    ...(limit === undefined ? {} : { memoryLimitMb: mb(limit) }),
  };
}
