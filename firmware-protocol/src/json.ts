// The JSON line form of frames, rejections and counters that both tools print and read
// [FP-8.2]. Key order is fixed so that the TypeScript and C tools print identical lines.

import type { DecoderCounters, DecoderEvent } from './decoder.ts';
import { FRAME_ERROR_CODES } from './errors.ts';
import {
  BODY_FIELDS,
  type FieldSpec,
  type Frame,
  type JsonValue,
  SENSOR_FIELDS,
} from './messages.ts';

const utf8 = new TextEncoder();

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Parses hex text; whitespace is ignored. Returns undefined on any other character. */
export function fromHex(text: string): Uint8Array | undefined {
  const clean = text.replace(/[ \t\r\n]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function keyOrder(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** JSON with object keys in deterministic CBOR order (length first, then bytes) [FP-4.4]. */
export function canonicalJson(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).sort(keyOrder);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k]!)}`).join(',')}}`;
}

function fieldsJson(obj: Record<string, unknown>, specs: FieldSpec[]): string {
  const parts: string[] = [];
  for (const spec of specs) {
    const v = obj[spec.name];
    if (v === undefined) continue;
    let s: string;
    if (spec.kind === 'sensors') {
      s = `[${(v as Array<Record<string, unknown>>).map((x) => fieldsJson(x, SENSOR_FIELDS)).join(',')}]`;
    } else if (spec.kind === 'readings') {
      s = `[${(v as Array<[number, number]>).map(([a, x]) => `[${a},${x}]`).join(',')}]`;
    } else if (spec.kind === 'args' || spec.kind === 'value') {
      s = canonicalJson(v as JsonValue);
    } else s = JSON.stringify(v);
    parts.push(`${JSON.stringify(spec.name)}:${s}`);
  }
  return `{${parts.join(',')}}`;
}

/** `{"offset","version","flags","type","seq","session","body"}` in this order. */
export function frameJson(frame: Frame, offset?: number): string {
  const head = offset === undefined ? '' : `"offset":${offset},`;
  const body = fieldsJson(
    frame.body as unknown as Record<string, unknown>,
    BODY_FIELDS[frame.type],
  );
  return `{${head}"version":${frame.version},"flags":${frame.flags},"type":"${frame.type}","seq":${frame.seq},"session":${frame.session},"body":${body}}`;
}

/** One output line of `decode` for a decoder event [FP-8.2]. */
export function eventJson(ev: DecoderEvent): string {
  if (ev.kind === 'frame') return frameJson(ev.frame, ev.offset);
  return `{"offset":${ev.offset},"error":"${ev.code}","reason":${JSON.stringify(ev.reason)},"raw":"${toHex(ev.raw)}"}`;
}

/** The `--stats` line: counters in a fixed order. */
export function statsJson(c: DecoderCounters): string {
  const errors = FRAME_ERROR_CODES.map((code) => `"${code}":${c.errors[code]}`).join(',');
  return `{"stats":{"bytes":${c.bytes},"frames":${c.frames},"rejected":${c.rejected},"sessions":${c.sessions},"gaps":${c.gaps},"lost":${c.lost},"duplicates":${c.duplicates},"recovered":${c.recovered},"errors":{${errors}}}}`;
}
