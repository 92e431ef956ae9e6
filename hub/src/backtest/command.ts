import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { IotError } from '@iot-stream/contracts';
import type { TObject } from '@sinclair/typebox';
import { DEFAULT_DETECTOR, DETECTOR_KINDS, DETECTORS, isDetectorKind } from '../detect/registry.ts';
import type { Rule } from '../detect/rules.ts';
import { readRulesFile } from '../detect/rules-file.ts';
import { UsageError } from '../state/errors.ts';
import { Backtest, backtestRules, detectorRule } from './backtest.ts';
import { type CsvHeader, parseHeader, parseRow } from './csv.ts';

export interface BacktestIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Exit codes: 0 every row scored; 1 bad input (header, or rows left unscored); 2 usage. */
export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

const MAX_REPORTED = 20;

/** `iot-hub backtest`: CSV on stdin, the same rows plus anomaly_score,anomaly on stdout. */
export async function backtestCommand(argv: string[], io: BacktestIo): Promise<number> {
  const say = (msg: string) => io.stderr.write(`iot-hub backtest: ${msg}\n`);
  let rules: Rule[];
  let episodes: boolean;
  try {
    const setup = setUp(argv);
    if (setup === 'help') {
      io.stdout.write(help());
      return EXIT_OK;
    }
    ({ rules, episodes } = setup);
  } catch (err) {
    const code = err instanceof IotError ? ` [${err.code}]` : '';
    say(`${(err as Error).message}${code}\n(iot-hub backtest --help shows the usage)`);
    return EXIT_USAGE;
  }
  try {
    return await score(new Backtest(rules, episodes ? 'episode' : 'point'), io, say);
  } catch (err) {
    // The reader went away (`| head`): stop quietly, as Unix tools do.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK;
    throw err;
  }
}

async function score(
  backtest: Backtest,
  io: BacktestIo,
  say: (msg: string) => void,
): Promise<number> {
  const out = new LineWriter(io.stdout);
  let header: CsvHeader | undefined;
  let lineNo = 0;
  let malformed = 0;
  let unordered = 0;
  for await (const line of createInterface({
    input: io.stdin,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    lineNo += 1;
    if (header === undefined) {
      const parsed = parseHeader(line);
      if (!parsed.ok) {
        say(`line 1: ${parsed.error}`);
        return EXIT_BAD_INPUT;
      }
      header = parsed.header;
      await out.write(`${line},anomaly_score,anomaly`);
      continue;
    }
    if (line.trim() === '') continue;
    const row = parseRow(line, header);
    if (!row.ok) {
      malformed += 1;
      if (malformed <= MAX_REPORTED) say(`line ${lineNo}: ${row.error}; row left unscored`);
      await out.write(`${line},,`);
      continue;
    }
    const result = backtest.score(row.time, row.value);
    if (result === undefined) {
      unordered += 1;
      if (unordered <= MAX_REPORTED) {
        say(`line ${lineNo}: timestamp is earlier than a previous row's; not scored (as live)`);
      }
      await out.write(`${line},,`);
      continue;
    }
    await out.write(`${line},${formatScore(result.score)},${result.anomaly}`);
  }
  await out.flush();
  if (header === undefined) {
    say('no input: expected a CSV header timestamp,value and rows on stdin');
    return EXIT_BAD_INPUT;
  }
  if (malformed > MAX_REPORTED) say(`${malformed} malformed rows in all`);
  if (unordered > MAX_REPORTED) say(`${unordered} out-of-order rows in all`);
  return malformed > 0 ? EXIT_BAD_INPUT : EXIT_OK;
}

function setUp(argv: string[]): 'help' | { rules: Rule[]; episodes: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...RULE_OPTIONS,
      episodes: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return { rules: rulesFromArgs(values), episodes: values.episodes ?? false };
}

/** The options that choose what to score with, shared by backtest and evaluate. */
export const RULE_OPTIONS = {
  detector: { type: 'string', short: 'd' },
  rules: { type: 'string', short: 'r' },
  param: { type: 'string', short: 'p', multiple: true },
} as const;

/** --rules FILE, or --detector NAME with --param KEY=VALUE, or (neither) the default detector. */
export function rulesFromArgs(values: {
  detector?: string | undefined;
  rules?: string | undefined;
  param?: string[] | undefined;
}): Rule[] {
  if (values.detector !== undefined && values.rules !== undefined) {
    throw new UsageError('give one of --detector NAME or --rules FILE, not both');
  }
  if (values.rules !== undefined) {
    if (values.param) throw new UsageError('--param goes with --detector; put params in the file');
    const rules = backtestRules(readRulesFile(values.rules));
    if (rules.length === 0) {
      throw new UsageError(`no rule in ${values.rules} watches metric "value"`);
    }
    return rules;
  }
  const name = values.detector ?? DEFAULT_DETECTOR;
  if (!isDetectorKind(name)) {
    throw new UsageError(
      `unknown detector "${name}"; expected one of ${DETECTOR_KINDS.join(', ')}`,
    );
  }
  const params: Record<string, unknown> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param ${p}: expected KEY=VALUE`);
    const text = p.slice(eq + 1);
    params[p.slice(0, eq)] =
      text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  }
  return [detectorRule(name, params)];
}

/** Up to 6 decimals, no trailing zeros: 0.5, 0.123457, 1. */
function formatScore(score: number): string {
  return String(Math.round(score * 1e6) / 1e6);
}

/** Buffers output lines and respects the stream's backpressure; a write error is thrown. */
class LineWriter {
  private lines: string[] = [];
  private failed: Error | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (err: Error) => {
      this.failed ??= err;
    });
  }

  async write(line: string): Promise<void> {
    this.lines.push(line);
    if (this.lines.length >= 512) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.lines.length === 0) return;
    const chunk = `${this.lines.join('\n')}\n`;
    this.lines = [];
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}

function help(): string {
  const detectors = DETECTOR_KINDS.map((kind) => {
    const spec = DETECTORS[kind];
    return `  ${kind.padEnd(14)} ${spec.summary}\n${paramsHelp(spec.params)}`;
  }).join('\n');
  return `iot-hub backtest: scores a recorded series with the detectors the hub runs live.

Usage: iot-hub backtest [--detector NAME [--param KEY=VALUE ...] | --rules FILE] [--episodes]
       < input.csv > scored.csv

Input: CSV with a header naming the columns timestamp and value (other columns are kept);
timestamp is ISO-8601 (UTC when it has no offset) or epoch milliseconds; rows in time order.
Output: every input row with two columns added: anomaly_score (0..1; 0.5 = the detector's
threshold) and anomaly (0/1). To score rules against labelled incidents (alerts caught, how
early, false alerts per 1,000 readings): iot-hub evaluate --help.

Options:
  -d, --detector NAME    one detector with its default parameters (neither option: the
                         default detector, ${DEFAULT_DETECTOR}, as a rule naming none gets)
  -p, --param KEY=VALUE  override a parameter of --detector (repeatable)
  -r, --rules FILE       the rules of a hub rules file that watch metric "value"
                         (device filters ignored); score = the highest of them
      --episodes         anomaly = 1 while an episode is open (min duration, hysteresis,
                         quiet period) instead of score >= the rule's openAt
  -h, --help             show this help

A malformed row is reported on stderr with its line number and written with empty
anomaly_score and anomaly; the other rows are still scored and the exit code is 1.
Exit codes: 0 all rows scored, 1 bad input, 2 bad usage.

Detectors and their parameters (default):
${detectors}
See hub/docs/detectors.md.
`;
}

function paramsHelp(schema: TObject): string {
  const params = Object.entries(schema.properties).map(([key, s]) => {
    const d = (s as { default?: unknown }).default;
    return d === undefined ? key : `${key}=${d}`;
  });
  return `      ${params.join(' ')}`;
}
