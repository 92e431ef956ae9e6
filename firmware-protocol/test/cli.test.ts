// iot-proto [FP-8]: help, exit codes, and decode | encode giving the stream back.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../src/encoder.ts';
import { toHex } from '../src/json.ts';
import type { Frame } from '../src/messages.ts';

const cli = fileURLToPath(new URL('../bin/iot-proto.js', import.meta.url));
const run = (args: string[], input: string | Uint8Array = '') => {
  const r = spawnSync('node', [cli, ...args], { input });
  return {
    status: r.status,
    stdout: r.stdout,
    text: r.stdout.toString(),
    stderr: r.stderr.toString(),
  };
};

describe('iot-proto', { timeout: 30_000 }, () => {
  it('prints help for the tool and each command', () => {
    expect(run(['--help'])).toMatchObject({ status: 0 });
    expect(run(['decode', '--help']).text).toMatch(/Usage: iot-proto decode/);
    expect(run(['encode', '-h']).text).toMatch(/Usage: iot-proto encode/);
  });

  it('refuses bad usage with exit code 2', () => {
    expect(run([]).status).toBe(2);
    expect(run(['frobnicate']).status).toBe(2);
    expect(run(['decode', '--nope']).status).toBe(2);
    expect(run(['decode', '--max-frame', '12']).status).toBe(2);
    expect(run(['encode', '--stats']).status).toBe(2);
    expect(run(['decode', '--hex'], 'abc').status).toBe(2);
  });

  it('decodes, reports rejected frames, and encodes the lines back to the same bytes', () => {
    const frame = encodeFrame({
      version: 1,
      flags: 16,
      type: 'log',
      seq: 3,
      session: 9,
      body: { level: 1, message: 'hi' },
    });
    const stream = Uint8Array.of(0x41, 0x42, 0, ...frame);
    const dec = run(['decode', '--stats'], stream);
    expect(dec.status).toBe(1);
    const lines = dec.text.trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ offset: 0, error: 'COBS_INVALID', raw: '4142' });
    expect(JSON.parse(lines[1]!)).toMatchObject({
      offset: 3,
      type: 'log',
      seq: 3,
      body: { level: 1, message: 'hi' },
    });
    expect(JSON.parse(lines[2]!).stats).toMatchObject({
      frames: 1,
      rejected: 1,
      bytes: stream.length,
    });
    const enc = run(['encode'], lines.slice(0, 2).join('\n'));
    expect(enc.status).toBe(0);
    expect(Uint8Array.from(enc.stdout)).toEqual(stream);
  });

  it('agrees with the worked example in SPEC.md section 3', () => {
    const spec = readFileSync(new URL('../SPEC.md', import.meta.url), 'utf8');
    const m = /^wire {5}([0-9a-f ]+)\n {9}([0-9a-f ]+)\n/m.exec(spec);
    const wire = `${m?.[1]}${m?.[2]}`.replace(/ /g, '');
    const frame = {
      version: 1,
      flags: 0x10,
      type: 'data',
      seq: 17,
      session: 0xdeadbeef,
      body: {
        uptime: 123456,
        readings: [
          [1, 215],
          [2, 402],
        ],
      },
    } as const;
    expect(toHex(encodeFrame(frame as unknown as Frame))).toBe(wire);
  });

  it('reports invalid lines on stderr and goes on', () => {
    const r = run(
      ['encode', '--hex'],
      '{"type":"log","seq":0,"session":1,"body":{"level":9,"message":""}}\nnot json\n{"type":"ack","seq":0,"session":1,"body":{"session":1,"cumulative":0}}\n',
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^line 1: FRAME_INVALID: body.level: out of range\nline 2: JSON_INVALID/,
    );
    expect(r.text.trimEnd().split('\n')).toHaveLength(1);
  });
});
