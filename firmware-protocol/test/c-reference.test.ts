// The C reference: `make -C c test` (warning-free build, vectors under ASan + UBSan), then a
// differential test: random frames encoded by C and by TypeScript give identical bytes, and
// random streams decode to identical lines in both, through both command-line tools.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../src/decoder.ts';
import { frameWire, tryEncodeFrame } from '../src/encoder.ts';
import { eventJson, frameJson, statsJson, toHex } from '../src/json.ts';
import { crcValidFrameArb, frameArb, noisyBytes } from './support/arbitraries.ts';

const cDir = fileURLToPath(new URL('../c/', import.meta.url));
const tool = `${cDir}build/proto-tool-san`;
const tsCli = fileURLToPath(new URL('../bin/iot-proto.js', import.meta.url));
const seed = Number(process.env.FP_SEED ?? Date.now() % 1_000_000_000);

const run = (cmd: string, args: string[], input: string | Uint8Array) => {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20 });
  return {
    status: r.status,
    stdout: r.stdout.toString('utf8'),
    stdoutBytes: r.stdout,
    stderr: r.stderr.toString(),
  };
};

describe('C reference', { timeout: 60_000 }, () => {
  beforeAll(() => {
    const r = spawnSync('make', ['-C', cDir, 'test'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make -C c test failed:\n${r.stdout}\n${r.stderr}`);
  }, 120_000);

  it('builds with -Wall -Wextra -Werror and passes every vector under ASan + UBSan', () => {
    const r = spawnSync('make', ['-C', cDir, 'test'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ checks, 0 failures/);
  });

  it(`encodes random frames to the same bytes as TypeScript (seed ${seed})`, () => {
    const frames = fc.sample(frameArb, { numRuns: 400, seed });
    const lines = frames.map((f) => frameJson(f));
    const c = run(tool, ['encode', '--hex', '--max-frame', '65535'], `${lines.join('\n')}\n`);
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
    const ts = frames.map((f) => {
      const r = tryEncodeFrame(f, 65535);
      return r.ok ? toHex(r.wire) : r.reason;
    });
    expect(c.stdout.trimEnd().split('\n')).toEqual(ts);
  });

  it(`decodes random streams to the same lines as TypeScript (seed ${seed})`, () => {
    const parts = fc.sample(
      fc.oneof(
        frameArb.map((f) => {
          const r = tryEncodeFrame(f, 65535);
          return r.ok ? r.wire : new Uint8Array(0);
        }),
        crcValidFrameArb.map(frameWire),
        noisyBytes(40),
        crcValidFrameArb.map((raw) => {
          const w = frameWire(raw);
          w[raw.length % (w.length - 1)]! ^= 0x40;
          return w;
        }),
      ),
      { numRuns: 1500, seed: seed + 1 },
    );
    const stream = Uint8Array.from(parts.flatMap((p) => [...p]));
    for (const maxFrame of [254, 65535]) {
      const dec = new FrameDecoder({ maxFrame });
      const expected = [...dec.push(stream), ...dec.end()].map(eventJson);
      expected.push(statsJson(dec.counters));
      const c = run(tool, ['decode', '--stats', '--max-frame', String(maxFrame)], stream);
      expect(c.stderr).toBe('');
      const got = c.stdout.trimEnd().split('\n');
      expect(got.length).toBe(expected.length);
      for (let i = 0; i < got.length; i++) expect(got[i], `line ${i}`).toBe(expected[i]);
      expect(c.status).toBe(dec.counters.rejected > 0 ? 1 : 0);
    }
  });

  it(`accepts and refuses the same mutated JSON lines as TypeScript (seed ${seed})`, () => {
    // Valid frames with one field replaced, removed or added: both encoders must agree on
    // every line, byte for byte or by refusing it.
    const mutated = fc
      .sample(
        fc.tuple(
          frameArb,
          fc.nat(),
          fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
          fc.boolean(),
        ),
        { numRuns: 400, seed: seed + 3 },
      )
      .map(([frame, pick, value, top]) => {
        const obj = JSON.parse(frameJson(frame)) as Record<string, unknown>;
        const target = (top ? obj : obj.body) as Record<string, unknown>;
        const keys = [...Object.keys(target), 'extra'];
        const key = keys[pick % keys.length]!;
        if (value === undefined) delete target[key];
        else target[key] = value;
        return JSON.stringify(obj);
      });
    const input = `${mutated.join('\n')}\n`;
    const c = run(tool, ['encode', '--hex', '--max-frame', '65535'], input);
    const ts = mutated.map((line) => {
      const r = tryEncodeFrame(JSON.parse(line), 65535);
      return r.ok ? toHex(r.wire) : undefined;
    });
    const refused = new Set([...c.stderr.matchAll(/^line (\d+):/gm)].map((m) => Number(m[1]) - 1));
    expect([...refused].sort((a, b) => a - b)).toEqual(
      ts.flatMap((x, i) => (x === undefined ? [i] : [])),
    );
    expect(c.stdout.split('\n').filter(Boolean)).toEqual(ts.filter((x) => x !== undefined));
  });

  it('proto-tool and iot-proto print the same output and exit codes', () => {
    const frames = fc.sample(frameArb, { numRuns: 60, seed: seed + 2 });
    const input = `${frames.map((f) => frameJson(f)).join('\n')}\n{"raw":"41414141"}\n{"type":"nope"}\n`;
    const cEnc = run(tool, ['encode', '--max-frame', '65535'], input);
    const tEnc = run('node', [tsCli, 'encode', '--max-frame', '65535'], input);
    expect(cEnc.status).toBe(1);
    expect(tEnc.status).toBe(1);
    expect(Buffer.compare(cEnc.stdoutBytes, tEnc.stdoutBytes)).toBe(0);
    const hexIn = `${toHex(cEnc.stdoutBytes)}\n`;
    const cDec = run(tool, ['decode', '--hex', '--stats', '--max-frame', '65535'], hexIn);
    const tDec = run('node', [tsCli, 'decode', '--hex', '--stats', '--max-frame', '65535'], hexIn);
    expect(cDec.stdout).toBe(tDec.stdout);
    expect(cDec.status).toBe(tDec.status);
    // decode | encode gives the stream back (frames and rejected lines alike).
    const back = run(
      tool,
      ['encode', '--max-frame', '65535'],
      cDec.stdout
        .split('\n')
        .filter((l) => !l.startsWith('{"stats"'))
        .join('\n'),
    );
    expect(toHex(back.stdoutBytes)).toBe(toHex(cEnc.stdoutBytes));
    for (const args of [['decode', '--hex'], ['--bogus'], ['decode', '--max-frame', '5']]) {
      const c = run(tool, args, 'zz');
      const t = run('node', [tsCli, ...args], 'zz');
      expect([c.status, t.status]).toEqual([2, 2]);
    }
  });
});
