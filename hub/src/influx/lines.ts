import type { ReadingRecord } from '@iot-stream/contracts';
import { FieldType, type ISchemaOptions, escape as influxEscape } from 'influx';
import type { Sample } from '../store/points.ts';
import { BodyWriter } from './body-writer.ts';

interface Field {
  name: string;
  type: FieldType;
  /** ` key=` and `,key=`, the key escaped. */
  first: string;
  next: string;
}

interface Measurement {
  /** Fields sorted by name (the order the `influx` library writes them in). */
  fields: Field[];
  tags: Set<string>;
}

/**
 * Whether s holds a character the library's escapers touch: `,`, `=`, space (tags, field
 * keys) or `"` (quoted strings), or a backslash (both, and its `\'` quirk). A plain scan: far
 * cheaper than a regular expression on the short strings of tags.
 */
function special(s: string, quote: boolean): boolean {
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c === 92 || (quote ? c === 34 : c === 44 || c === 61 || c === 32)) return true;
  }
  return false;
}

function tag(s: string): string {
  return special(s, false) ? influxEscape.tag(s) : s;
}

function quoted(s: string): string {
  return special(s, true) ? influxEscape.quoted(s) : `"${s}"`;
}

/**
 * Serialises points to InfluxDB line protocol exactly as `InfluxDB.writePoints` of the `influx`
 * library does (same schema coercions, field order, escaping and timestamps; precision ms), at
 * a fraction of its cost: no per-point intermediate objects or strings, no regular-expression
 * escaping of strings that need none, one join for the whole body. A point this fast path does not cover (a value of an unexpected type,
 * an extraneous tag or field, a non-numeric timestamp) makes `lines` return undefined, and the
 * caller hands the points to the library instead, which then behaves (and fails) as it always
 * did. `hub/test/influx-lines.test.ts` compares the two outputs.
 */
export class LineProtocol {
  private readonly schemas = new Map<string, Measurement>();
  /** `,key=` per tag key, escaped. */
  private readonly tagKeys = new Map<string, string>();

  constructor(schemas: readonly ISchemaOptions[]) {
    for (const s of schemas) {
      const fields = Object.keys(s.fields)
        .sort()
        .map((name) => ({
          name,
          type: s.fields[name] as FieldType,
          first: ` ${tag(name)}=`,
          next: `,${tag(name)}=`,
        }));
      this.schemas.set(s.measurement, { fields, tags: new Set(s.tags) });
    }
  }

  /** The body of one write request, or undefined when a point needs the library. */
  lines(points: readonly Sample[]): string | undefined {
    // The pieces of all lines, joined once: no rope of concatenations to build and flatten.
    const parts: string[] = [];
    for (let i = 0; i < points.length; i += 1) {
      if (i > 0) parts.push('\n');
      if (!this.line(points[i] as Sample, parts)) return undefined;
    }
    return parts.join('');
  }

  /** Appends the point's line to `parts`; false when the library must write it. */
  private line(point: Sample, parts: string[]): boolean {
    const { measurement, tags = {}, fields = {}, timestamp } = point;
    if (typeof measurement !== 'string') return false;
    const schema = this.schemas.get(measurement);
    parts.push(measurement);
    for (const name in tags) {
      if (!Object.hasOwn(tags, name)) continue;
      const v = tags[name];
      if (typeof v !== 'string' || (schema && !schema.tags.has(name))) return false;
      parts.push(this.tagKey(name), tag(v));
    }
    let written = 0;
    if (schema) {
      let consumed = 0;
      for (const f of schema.fields) {
        if (!Object.hasOwn(fields, f.name)) continue;
        consumed += 1;
        const v = fields[f.name];
        if (v === null || v === undefined) continue;
        parts.push(written === 0 ? f.first : f.next);
        written += 1;
        if (f.type === FieldType.FLOAT) {
          if (typeof v !== 'number') return false;
          parts.push(String(v));
        } else if (f.type === FieldType.INTEGER) {
          if (typeof v !== 'number') return false;
          parts.push(String(Math.floor(v)), 'i');
        } else if (f.type === FieldType.STRING) {
          parts.push(quoted(String(v)));
        } else if (f.type === FieldType.BOOLEAN) {
          if (typeof v !== 'boolean') return false;
          parts.push(v ? 'T' : 'F');
        } else return false;
      }
      if (consumed !== ownKeys(fields)) return false; // extraneous fields
    } else {
      for (const name of Object.keys(fields).sort()) {
        const v = fields[name];
        parts.push(written === 0 ? ' ' : ',', tag(name), '=');
        parts.push(typeof v === 'string' ? quoted(v) : String(v));
        written += 1;
      }
    }
    if (timestamp === undefined) return true; // the server's clock stamps it
    if (typeof timestamp !== 'number') return false;
    parts.push(' ', String(timestamp));
    return true;
  }

  private tagKey(name: string): string {
    let key = this.tagKeys.get(name);
    if (key === undefined) {
      key = `,${tag(name)}=`;
      if (this.tagKeys.size >= 1000) this.tagKeys.clear(); // only a cache
      this.tagKeys.set(name, key);
    }
    return key;
  }
}

function ownKeys(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n += 1;
  return n;
}

/**
 * The lines `lines(readingPoints(records, siteOf))` gives for the `readings` measurement (tags
 * device, gateway, metric, site, unit; fields gateway_seq, seq, value; the event time), written
 * straight from the records into request bodies (UTF-8 bytes, ready to send) of at most
 * `perBody` lines: no point objects, no strings per line or piece, no join (a batch's lines
 * were the largest thing the hub held while its write was in flight, and building them a fifth
 * of what it allocated). A series' line up to its first field is encoded once per call and
 * copied for its other readings (a batch holds each device's readings many times over).
 * Undefined when a record does not fit (a non-numeric value).
 * InfluxStore checks this against the generic path on the first record of every batch and
 * stops using it for good if they ever differ (influx-points.ts changed);
 * `hub/test/influx-lines.test.ts` compares the two on arbitrary records.
 */
export function readingLines(
  records: readonly ReadingRecord[],
  siteOf: (deviceId: string) => string,
  perBody = 5000,
): Buffer[] | undefined {
  const bodies: Buffer[] = [];
  // About 130 bytes a line: one allocation for most bodies.
  const w = new BodyWriter(Math.min(perBody, 2 * records.length) * 136);
  const heads = new Map<string, DeviceHeads>();
  let lines = 0;
  for (const r of records) {
    if (typeof r.gatewaySeq !== 'number' || typeof r.time !== 'number') return undefined;
    if (r.seq !== undefined && typeof r.seq !== 'number') return undefined;
    let device = heads.get(r.deviceId);
    if (device === undefined || device.gateway !== r.gatewayId) {
      device = { gateway: r.gatewayId, site: siteOf(r.deviceId), metrics: new Map() };
      heads.set(r.deviceId, device);
    }
    const metrics = r.metrics;
    for (const metric in metrics) {
      if (!Object.hasOwn(metrics, metric)) continue;
      const m = metrics[metric] as (typeof metrics)[string];
      if (typeof m.value !== 'number' || (m.unit && typeof m.unit !== 'string')) return undefined;
      if (lines === perBody) {
        bodies.push(w.take());
        lines = 0;
      }
      if (lines > 0) w.char(NEWLINE);
      let head = device.metrics.get(metric);
      if (head === undefined || head.unit !== m.unit) {
        head = { unit: m.unit, bytes: seriesHead(r.deviceId, device, metric, m.unit) };
        device.metrics.set(metric, head);
      }
      w.bytes(head.bytes);
      w.number(Math.floor(r.gatewaySeq));
      if (r.seq !== undefined) {
        w.text('i,seq=');
        w.number(Math.floor(r.seq));
      }
      w.text('i,value=');
      w.number(m.value);
      w.char(SPACE);
      w.number(r.time);
      lines += 1;
    }
  }
  if (lines > 0) bodies.push(w.take());
  return bodies;
}

/** One device's series heads in a readingLines call (its gateway and site as first seen). */
interface DeviceHeads {
  gateway: string;
  site: string;
  metrics: Map<string, { unit: string | undefined; bytes: Buffer }>;
}

/** `readings,device=D,gateway=G,metric=M,site=S[,unit=U] gateway_seq=`, as UTF-8. */
function seriesHead(
  deviceId: string,
  device: DeviceHeads,
  metric: string,
  unit: string | undefined,
): Buffer {
  let head = `readings,device=${tag(deviceId)},gateway=${tag(device.gateway)},metric=${tag(metric)},site=${tag(device.site)}`;
  if (unit) head += `,unit=${tag(unit)}`;
  return Buffer.from(`${head} gateway_seq=`);
}

const NEWLINE = 10;
const SPACE = 32;
