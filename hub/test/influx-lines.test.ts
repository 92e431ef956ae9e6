import fc from 'fast-check';
import { FieldType, InfluxDB, type IPoint } from 'influx';
import { describe, expect, it } from 'vitest';
import { LineProtocol, readingLines } from '../src/influx/lines.ts';
import { INFLUX_SCHEMA } from '../src/influx/store.ts';
import {
  aggregatePoints,
  episodePoints,
  gatewayStatusPoints,
  readingPoints,
} from '../src/store/points.ts';
import { record } from './support/evaluate.ts';

/** The body the `influx` library POSTs for these points (its pool stubbed out). */
function libraryBody(points: IPoint[], schema = INFLUX_SCHEMA): string {
  const influx = new InfluxDB({ host: '127.0.0.1', database: 'db', schema });
  let body = '';
  (influx as unknown as { _pool: { discard(o: { body: string }): Promise<void> } })._pool.discard =
    async (o) => {
      body = o.body;
    };
  void influx.writePoints(points, { precision: 'ms', retentionPolicy: 'raw' });
  return body;
}

const T0 = Date.UTC(2026, 10, 22);

describe('LineProtocol', () => {
  it('writes what the influx library writes for the hub points', () => {
    const records = [
      record('dev-1', 1, T0, { temperature: 21.5, humidity: 40 }),
      { ...record('dev 2,x=y', 2, T0 + 1, { 'a b': -0.000001 }), seq: undefined },
      record('dev-3', 3, T0 + 2, { t: 1e21 }),
    ];
    const points = [
      ...readingPoints(records),
      ...readingPoints(records, () => 'site=1, x'),
      ...aggregatePoints([
        {
          deviceId: 'dev-1',
          metric: 'temperature',
          unit: 'Cel',
          windowMs: 60_000,
          start: T0,
          end: T0 + 60_000,
          count: 3,
          min: 1,
          max: 3,
          mean: 2.0000000000000004,
          stddev: 1,
          last: 3,
          lastTime: T0,
          final: true,
          revision: 2,
        },
      ]),
      ...episodePoints([
        {
          type: 'opened',
          time: T0 + 5,
          episode: {
            id: 'limits/dev-1/temperature/1',
            ruleId: 'limits',
            deviceId: 'dev-1',
            metric: 'temperature',
            detector: 'range',
            severity: 'critical',
            start: T0,
            end: null,
            peakScore: 0.91,
            peakTime: T0 + 1,
            peakValue: 80,
          },
        },
        {
          type: 'closed',
          time: T0 + 9,
          episode: {
            id: 'say "hi" \\ there',
            ruleId: 'r',
            deviceId: 'd',
            metric: 'm',
            detector: 'heartbeat',
            severity: 'warning',
            start: T0,
            end: T0 + 9,
            peakScore: 1,
            peakTime: T0 + 1,
            peakValue: null,
          },
        },
      ]),
      ...gatewayStatusPoints({
        gatewayId: 'gw-1',
        time: T0,
        version: '1.2 "beta"',
        kafka: { connected: true },
        outbox: { backlogRows: 3, quarantined: 0 },
        forwarder: { forwarded: 10, failures: 1 },
      } as Parameters<typeof gatewayStatusPoints>[0]),
    ];
    const lines = new LineProtocol(INFLUX_SCHEMA).lines(points);
    expect(lines).toBeDefined();
    expect(lines).toBe(libraryBody(points));
  });

  it('matches the library on arbitrary tags, fields and timestamps, or defers to it', () => {
    const schema = [
      {
        measurement: 'm',
        fields: {
          f: FieldType.FLOAT,
          i: FieldType.INTEGER,
          s: FieldType.STRING,
          b: FieldType.BOOLEAN,
        },
        tags: ['t1', 't2', 'a b'],
      },
    ];
    const text = fc.string({
      unit: fc.constantFrom('a', ' ', ',', '=', '"', '\\', "'", 'é', '\n'),
    });
    const point = fc.record(
      {
        measurement: fc.constantFrom('m', 'free'),
        tags: fc
          .dictionary(fc.constantFrom('t1', 't2', 'a b', 'x'), text, { maxKeys: 3 })
          .map((d) => ({ ...d })),
        fields: fc
          .dictionary(
            fc.constantFrom('f', 'i', 's', 'b', 'z'),
            fc.oneof(fc.double(), fc.integer(), text, fc.boolean(), fc.constant(null)),
            { minKeys: 1, maxKeys: 4 },
          )
          .map((d) => ({ ...d })),
        timestamp: fc.oneof(fc.constant(0), fc.nat(), fc.constant(undefined)),
      },
      { requiredKeys: ['measurement', 'fields'] },
    );
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 5 }), (points) => {
        const lines = new LineProtocol(schema).lines(points as never);
        if (lines === undefined) return; // the library's own path is used for these
        expect(lines).toBe(libraryBody(points as IPoint[], schema));
      }),
      { numRuns: 2000 },
    );
  });

  it('readingLines gives exactly the lines of readingPoints, straight from the records', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '=', '"', '\\', 'é', '🌡') });
    const id = fc.oneof(fc.constantFrom('dev-1', 'gw-1', 'temperature'), text);
    const reading = fc.record({
      deviceId: id,
      gatewayId: id,
      gatewaySeq: fc.oneof(fc.integer({ min: 1 }), fc.maxSafeNat(), fc.constant(2 ** 60)),
      seq: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
      time: fc.oneof(fc.nat(), fc.maxSafeNat()),
      metrics: fc
        .dictionary(
          id,
          fc.record(
            {
              value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
              unit: fc.oneof(fc.constantFrom('Cel', '%RH', ''), text),
            },
            { requiredKeys: ['value'] },
          ),
          { minKeys: 1, maxKeys: 3 },
        )
        .map((d) => ({ ...d })),
    });
    const lp = new LineProtocol(INFLUX_SCHEMA);
    fc.assert(
      fc.property(
        fc.array(reading, { maxLength: 5 }),
        id,
        fc.integer({ min: 1, max: 4 }),
        (partial, site, perBody) => {
          const records = partial.map((r) => ({ ...r, v: 1 as const, receivedAt: r.time }));
          if (records.some((r) => r.seq === undefined)) for (const r of records) delete r.seq;
          const siteOf = (d: string) => (d.length % 2 === 0 ? site : 'unassigned');
          const points = readingPoints(records, siteOf);
          const joined = (bodies: Buffer[] | undefined) => bodies?.map(String).join('\n');
          expect(joined(readingLines(records, siteOf))).toBe(lp.lines(points));
          // Split into request bodies of at most perBody lines each, none empty, nothing lost.
          const bodies = (readingLines(records, siteOf, perBody) ?? []).map(String);
          expect(bodies.join('\n')).toBe(lp.lines(points));
          expect(bodies.length).toBe(Math.ceil(points.length / perBody));
          for (const b of bodies) expect(b.split('\n').length).toBeLessThanOrEqual(perBody);
          if (points.length > 0) expect(lp.lines(points)).toBe(libraryBody(points));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
