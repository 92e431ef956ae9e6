// Where a process's CPU time went, from a V8 CPU profile (`node --cpu-prof`): each sample's
// time goes to the part of the code it was in, found by walking up from the sampled function
// to the first frame with a source (a native function counts as its caller's), whose file
// says which part that is (the hub's bundle is mapped back to its TypeScript sources through
// its source maps). The hub benchmark prints this for a
// profiled run beside the measured ones: what is left when a goal is missed.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Milliseconds the profile spans, and of those, busy (not idle). */
  totalMs: number;
  busyMs: number;
  /** Parts of the code, largest first, with their share of the busy time. */
  parts: { part: string; ms: number; share: number }[];
}

/** A source file (original path, after source maps) -> the part of the code it belongs to. */
const PARTS: [RegExp, string][] = [
  [/node_modules\/kafkajs\//, 'Kafka client (kafkajs: fetch, record decoding)'],
  [/node_modules\/@platformatic\/kafka\//, 'Kafka client (@platformatic/kafka)'],
  [/hub\/src\/influx\//, 'InfluxDB line protocol and writes'],
  [/hub\/src\/windows\//, 'windows and duplicate detection'],
  [/hub\/src\/detect\//, 'detectors'],
  [
    /hub\/src\/kafka-common\/decode-batch|contracts\/src\/record/,
    'record decoding (JSON.parse, validation)',
  ],
  [/hub\/src\/(pipeline|processing|state|kafka|kafka-common)\//, 'pipeline and checkpoints'],
  [
    /node_modules\/(fastify|@fastify|ajv|avvio|fast-json|pino|yaml|@sinclair)/,
    'start-up, API, logs',
  ],
  [/^node:(internal\/modules|internal\/bootstrap|fs)|\/loader/, 'start-up, API, logs'],
  [
    /^node:(zlib|net|_http|http|stream|internal\/(streams|stream_base_commons|buffer))|^node:buffer/,
    'Node (HTTP, sockets, gzip, buffers)',
  ],
  [/^node:/, 'Node (other)'],
];

const NAMED = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(program)', 'V8 and Node outside JavaScript'],
]);

/** Source maps of bundled files, read once each (undefined: none). */
export function sourceMapResolver(): (url: string, line: number, column: number) => string {
  const maps = new Map<string, SourceMap | undefined>();
  return (url, line, column) => {
    if (!url.startsWith('file://')) return url;
    const path = fileURLToPath(url);
    if (!maps.has(path)) {
      try {
        maps.set(path, new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8'))));
      } catch {
        maps.set(path, undefined);
      }
    }
    const entry = maps.get(path)?.findEntry(line, column);
    if (!entry || !('originalSource' in entry)) return path;
    const original = entry.originalSource;
    // Relative to the map (esbuild writes `../src/...`, `../../node_modules/...`).
    return original.startsWith('file://')
      ? fileURLToPath(original)
      : resolve(dirname(path), original);
  };
}

/** Sums the profile's samples by part of the code (`source`: a frame's original file). */
export function summarizeProfile(
  profile: CpuProfile,
  source: (url: string, line: number, column: number) => string,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOf = new Map<number, string | null>(); // node id -> part (null: idle)
  const classify = (id: number): string | null => {
    const known = partOf.get(id);
    if (known !== undefined) return known;
    let part: string | null = 'other';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url, lineNumber, columnNumber } = (
        byId.get(at) as CpuProfile['nodes'][number]
      ).callFrame;
      if (functionName === '(idle)') {
        part = null;
        break;
      }
      const named = NAMED.get(functionName);
      if (named) {
        part = named;
        break;
      }
      if (!url) continue; // a native function: whoever called it decides
      // The first frame with a source decides (a native function's caller).
      const file = source(url, lineNumber, columnNumber);
      part = PARTS.find(([pattern]) => pattern.test(file))?.[1] ?? 'other';
      break;
    }
    partOf.set(id, part);
    return part;
  };
  const ms = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const part = classify(id);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    if (part === null) return;
    busy += dt;
    ms.set(part, (ms.get(part) ?? 0) + dt);
  });
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    busyMs: busy,
    parts: [...ms]
      .map(([part, t]) => ({ part, ms: t, share: busy > 0 ? t / busy : 0 }))
      .sort((a, b) => b.ms - a.ms),
  };
}
