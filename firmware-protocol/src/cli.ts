// iot-proto: decode and encode the serial byte stream [FP-8.1]..[FP-8.3]. The C reference
// (c/build/proto-tool) has the same subcommands, flags, output and exit codes.

import { parseArgs } from 'node:util';
import { FrameDecoder } from './decoder.ts';
import { tryEncodeFrame } from './encoder.ts';
import { DEFAULT_MAX_FRAME, MAX_FRAME_LIMIT, MIN_FRAME } from './header.ts';
import { eventJson, fromHex, statsJson, toHex } from './json.ts';

const EXIT_OK = 0;
const EXIT_REJECTED = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage: iot-proto <command> [options]

Commands:
  decode   read a byte stream on stdin, write one JSON object per frame or rejected frame
  encode   read one JSON frame per line on stdin, write the framed byte stream

Options:
  --hex            hex text instead of raw bytes (decode input, encode output)
  --max-frame N    largest frame in bytes before COBS (${MIN_FRAME}..${MAX_FRAME_LIMIT}, default ${DEFAULT_MAX_FRAME})
  --stats          decode: print the counters as a last line {"stats":{...}}
  -h, --help       show help

Exit codes: 0 all input valid, 1 some frames or lines rejected, 2 usage error or bad hex input.
See firmware-protocol/SPEC.md section 8.`;

const DECODE_HELP = `Usage: iot-proto decode [--hex] [--stats] [--max-frame N]

Reads a byte stream (raw, or hex text with --hex; whitespace ignored) on stdin and writes one
JSON object per line: a decoded frame
  {"offset":0,"version":1,"flags":0,"type":"data","seq":1,"session":7,"body":{...}}
or a rejected one
  {"offset":20,"error":"CRC_MISMATCH","reason":"...","raw":"<hex as received>"}
Exit codes: 0 no frame rejected, 1 some frames rejected, 2 usage error or bad hex.`;

const ENCODE_HELP = `Usage: iot-proto encode [--hex] [--max-frame N]

Reads one JSON object per line on stdin, in the shape that decode prints ("offset" is
ignored; "version" defaults to 1 and "flags" to 0), and writes each frame COBS-encoded with
its 0x00 delimiter (raw, or one hex line per frame with --hex). A line with "raw" and no
"type" (a rejection printed by decode) is written back as those bytes and a 0x00.
Invalid lines are reported on stderr as "line N: CODE: reason" and skipped.
Exit codes: 0 every line encoded, 1 some lines invalid, 2 usage error.`;

async function readAll(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function decode(hex: boolean, stats: boolean, maxFrame: number): Promise<number> {
  const decoder = new FrameDecoder({ maxFrame });
  let rejected = false;
  const emit = (events: ReturnType<FrameDecoder['push']>): void => {
    if (events.length === 0) return;
    let out = '';
    for (const ev of events) {
      if (ev.kind === 'rejected') rejected = true;
      out += `${eventJson(ev)}\n`;
    }
    process.stdout.write(out);
  };
  if (hex) {
    const bytes = fromHex((await readAll()).toString('latin1'));
    if (!bytes) {
      process.stderr.write('iot-proto: input is not hex text\n');
      return EXIT_USAGE;
    }
    emit(decoder.push(bytes));
  } else {
    for await (const chunk of process.stdin) emit(decoder.push(chunk as Buffer));
  }
  emit(decoder.end());
  if (stats) process.stdout.write(`${statsJson(decoder.counters)}\n`);
  return rejected ? EXIT_REJECTED : EXIT_OK;
}

function encodeLine(line: string, maxFrame: number): { wire: Uint8Array } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { error: 'JSON_INVALID: not a JSON value' };
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.type === undefined && typeof o.raw === 'string') {
      const raw = fromHex(o.raw);
      if (!raw) return { error: 'FRAME_INVALID: raw: expected hex' };
      const wire = new Uint8Array(raw.length + 1);
      wire.set(raw);
      return { wire };
    }
  }
  const r = tryEncodeFrame(v, maxFrame);
  return r.ok ? { wire: r.wire } : { error: `${r.code}: ${r.reason}` };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

async function encode(hex: boolean, maxFrame: number): Promise<number> {
  const input = await readAll();
  let failed = false;
  const out: Uint8Array[] = [];
  let start = 0;
  for (let n = 1; start <= input.length; n++) {
    const nl = input.indexOf(10, start);
    const end = nl < 0 ? input.length : nl;
    const bytes = input.subarray(start, end);
    start = end + 1;
    let line: string;
    try {
      line = strictUtf8.decode(bytes);
    } catch {
      failed = true;
      process.stderr.write(`line ${n}: JSON_INVALID: not UTF-8\n`);
      continue;
    }
    if (/^[ \t\r\v\f]*$/.test(line)) continue;
    const r = encodeLine(line, maxFrame);
    if ('error' in r) {
      failed = true;
      process.stderr.write(`line ${n}: ${r.error}\n`);
    } else out.push(hex ? Buffer.from(`${toHex(r.wire)}\n`) : r.wire);
  }
  process.stdout.write(Buffer.concat(out));
  return failed ? EXIT_REJECTED : EXIT_OK;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        hex: { type: 'boolean', default: false },
        stats: { type: 'boolean', default: false },
        'max-frame': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`iot-proto: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help) {
    const help = command === 'decode' ? DECODE_HELP : command === 'encode' ? ENCODE_HELP : USAGE;
    process.stdout.write(`${help}\n`);
    return EXIT_OK;
  }
  if ((command !== 'decode' && command !== 'encode') || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_USAGE;
  }
  let maxFrame = DEFAULT_MAX_FRAME;
  const mf = values['max-frame'];
  if (mf !== undefined) {
    maxFrame = /^[0-9]{1,5}$/.test(String(mf)) ? Number(mf) : -1;
    if (maxFrame < MIN_FRAME || maxFrame > MAX_FRAME_LIMIT) {
      process.stderr.write(`iot-proto: --max-frame must be ${MIN_FRAME}..${MAX_FRAME_LIMIT}\n`);
      return EXIT_USAGE;
    }
  }
  if (command === 'decode') return decode(Boolean(values.hex), Boolean(values.stats), maxFrame);
  if (values.stats) {
    process.stderr.write('iot-proto: --stats applies to decode only\n');
    return EXIT_USAGE;
  }
  return encode(Boolean(values.hex), maxFrame);
}

// A reader that goes away (`iot-proto decode | head`) ends the tool quietly, like a C tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
