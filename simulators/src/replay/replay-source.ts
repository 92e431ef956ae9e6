import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AnomalyInjector } from '../anomalies/injector.ts';
import type { AnomalyRule, Label } from '../anomalies/types.ts';
import { SimError } from '../errors.ts';
import { type MetricSpec, quantise } from '../profiles/types.ts';
import { randomU32, streamFor } from '../random.ts';
import type { ReadingSource, Sample, Step } from '../sample.ts';
import { type CsvHeader, type CsvRow, parseHeader, parseRow } from './csv.ts';

export interface ReplayOptions {
  path: string;
  deviceId: string;
  /** Name of the `value` column's metric. */
  metric?: string;
  /** Unit per metric (`*` for all); none when absent. */
  units?: Record<string, string>;
  /** Decimal scale per metric (`*` for all): values are rounded to it, and serial uses it. */
  scales?: Record<string, number>;
  /** Shift timestamps so that the first reading is stamped `now` (wall clock at open). */
  retimeTo?: number | undefined;
  seed: number;
  anomalies?: readonly AnomalyRule[];
  onLabel?: (label: Label) => void;
  /** A line that is not a reading: reported with its number, skipped, counted. */
  onMalformed?: (line: number, reason: string) => void;
}

/**
 * A CSV file as a device: one reading per line, at the file's timestamps (the clock decides how
 * fast: real time, `--speed N`, or as fast as possible). Anomalies can be injected as into a
 * simulated device, with the first reading as the start of the run.
 */
export class CsvReplaySource implements ReadingSource {
  readonly id: string;
  readonly intervalMs = 1;
  readonly session: number;
  metrics: MetricSpec[] = [];
  readonly counters = { rows: 0, malformed: 0, outOfOrder: 0 };
  private header: CsvHeader | undefined;
  private readonly lines: AsyncIterator<string>;
  private lineNo = 0;
  private row: CsvRow | undefined;
  private first: number | undefined;
  private lastTime = Number.NEGATIVE_INFINITY;
  private injector: AnomalyInjector | undefined;
  private ended = false;

  private constructor(private readonly options: ReplayOptions) {
    this.id = options.deviceId;
    this.session = randomU32(streamFor(options.seed, 'session', options.deviceId));
    const input = createReadStream(options.path, { encoding: 'utf8' });
    this.lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[
      Symbol.asyncIterator
    ]();
  }

  /** Opens the file and reads its header and first reading; throws CSV_INVALID without them. */
  static async open(options: ReplayOptions): Promise<CsvReplaySource> {
    const source = new CsvReplaySource(options);
    await source.readHeader();
    await source.advance();
    return source;
  }

  /** Time of the first reading in the file (the start of simulated time). */
  get start(): number | undefined {
    return this.first;
  }

  peek(): number | undefined {
    return this.row?.time;
  }

  async take(): Promise<Step> {
    const row = this.row as CsvRow;
    await this.advance();
    const first = this.first as number;
    if (row.time < this.lastTime) this.counters.outOfOrder += 1;
    this.lastTime = Math.max(this.lastTime, row.time);
    this.counters.rows += 1;
    const shift = this.options.retimeTo === undefined ? 0 : this.options.retimeTo - first;
    if (!this.injector && (this.options.anomalies?.length ?? 0) > 0) {
      const next = this.row?.time;
      this.injector = new AnomalyInjector({
        deviceId: this.id,
        metrics: this.metrics,
        rules: this.options.anomalies ?? [],
        seed: this.options.seed,
        start: first,
        intervalMs: next !== undefined && next > row.time ? next - row.time : 1000,
        stamp: (t) => t + shift,
        onLabel: this.options.onLabel,
      });
    }
    const reported = this.injector ? this.injector.apply(row.time, row.values) : row.values;
    const scales = this.options.scales ?? {};
    const values: Sample['values'] = [];
    for (const metric of this.metrics) {
      const v = reported[metric.name];
      if (v === undefined) continue;
      // Values keep the file's precision unless a scale was given; injected ones are rounded.
      const explicit = metric.name in scales || '*' in scales;
      const value = explicit
        ? quantise(v, metric.scale)
        : v === row.values[metric.name]
          ? v
          : quantise(v, -6);
      values.push({ metric, value });
    }
    if (values.length === 0) return { samples: [] };
    return {
      samples: [{ trueTime: row.time, time: row.time + shift, uptime: row.time - first, values }],
    };
  }

  drain(): Sample[] {
    return [];
  }

  private async readHeader(): Promise<void> {
    for (;;) {
      const line = await this.nextLine();
      if (line === undefined)
        throw new SimError('CSV_INVALID', `${this.options.path}: the file is empty`);
      if (line.trim() === '') continue;
      const parsed = parseHeader(line, this.options.metric ?? 'value');
      if (!parsed.ok)
        throw new SimError('CSV_INVALID', `${this.options.path}:${this.lineNo}: ${parsed.error}`);
      this.header = parsed.header;
      const { units = {}, scales = {} } = this.options;
      this.metrics = parsed.header.metrics.map(
        ({ name }): MetricSpec => ({
          name,
          unit: units[name] ?? units['*'] ?? '',
          scale: scales[name] ?? scales['*'] ?? -3,
          typical: 1,
        }),
      );
      return;
    }
  }

  /** Reads up to the next valid reading (or the end), reporting malformed lines. */
  private async advance(): Promise<void> {
    this.row = undefined;
    while (!this.ended) {
      const line = await this.nextLine();
      if (line === undefined) return;
      if (line.trim() === '') continue;
      const parsed = parseRow(line, this.header as CsvHeader);
      if (parsed.ok) {
        this.row = parsed.row;
        this.first ??= parsed.row.time;
        return;
      }
      this.counters.malformed += 1;
      this.options.onMalformed?.(this.lineNo, parsed.error);
    }
  }

  private async nextLine(): Promise<string | undefined> {
    const r = await this.lines.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    this.lineNo += 1;
    return r.value;
  }
}
