import { setFlagsFromString } from 'node:v8';

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
