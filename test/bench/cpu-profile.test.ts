import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { type CpuProfile, sourceMapResolver, summarizeProfile } from './lib/cpu-profile.ts';

// The hub benchmark's "where the hub's time goes": samples summed by part of the code, a
// native function counted as its caller's, idle time left out; bundled code mapped back to
// its sources.
const dir = mkdtempSync(join(tmpdir(), 'cpu-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 },
  children,
});

describe('summarizeProfile', () => {
  it('sums self time by part, natives by their caller, without idle time', () => {
    const bundle = 'file:///app/hub/dist/main.js';
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 3, 4, 5, 7]),
        frame(2, '(idle)', ''),
        frame(3, '(garbage collector)', ''),
        frame(4, 'add', bundle, [6]),
        frame(5, 'writeGeneric', 'node:net'),
        frame(6, 'writev', ''), // native: counted as add's
        frame(7, 'mystery', 'file:///app/elsewhere.js'),
      ],
      startTime: 0,
      endTime: 20_000,
      samples: [2, 3, 6, 5, 4, 7],
      timeDeltas: [1000, 2000, 3000, 4000, 5000, 500],
    };
    const source = (url: string) => (url === bundle ? '/app/hub/src/windows/recent-ids.ts' : url);
    const s = summarizeProfile(profile, source);
    expect(s.totalMs).toBe(20);
    expect(s.busyMs).toBe(14.5);
    expect(s.parts.map((p) => [p.part, p.ms])).toEqual([
      ['windows and duplicate detection', 8],
      ['Node (HTTP, sockets, gzip, buffers)', 4],
      ['garbage collection', 2],
      ['other', 0.5],
    ]);
    expect(s.parts[0]?.share).toBeCloseTo(8 / 14.5);
  });

  it("maps a bundle's positions back to its sources", () => {
    const src = join(dir, 'hub', 'src', 'influx');
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'lines.ts'),
      'export function line(x: number) {\n  return "m v=" + x;\n}\n',
    );
    writeFileSync(
      join(dir, 'hub', 'src', 'main.ts'),
      "import { line } from './influx/lines.ts';\nconsole.log(line(1));\n",
    );
    const out = join(dir, 'hub', 'dist', 'main.js');
    buildSync({
      entryPoints: [join(dir, 'hub', 'src', 'main.ts')],
      bundle: true,
      outfile: out,
      sourcemap: 'linked',
      format: 'esm',
      logLevel: 'silent',
    });
    const resolve = sourceMapResolver();
    // esbuild puts the bundled `line` function first, with its body on the line below.
    const url = pathToFileURL(out).href;
    expect(resolve(url, 2, 2)).toBe(join(src, 'lines.ts'));
    expect(resolve('node:net', 0, 0)).toBe('node:net');
    expect(resolve(pathToFileURL(join(dir, 'none.js')).href, 0, 0)).toBe(join(dir, 'none.js'));
  });
});
