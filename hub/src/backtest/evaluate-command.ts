import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { IotError } from '@iot-stream/contracts';
import { DEFAULT_DETECTOR } from '../detect/registry.ts';
import type { Rule } from '../detect/rules.ts';
import { UsageError } from '../state/errors.ts';
import {
  type BacktestIo,
  EXIT_BAD_INPUT,
  EXIT_OK,
  EXIT_USAGE,
  RULE_OPTIONS,
  rulesFromArgs,
} from './command.ts';
import { parseHeader, parseRow, splitCsvLine } from './csv.ts';
import { Evaluation, type EvaluationReport } from './evaluate.ts';

const MAX_REPORTED = 20;

/**
 * `iot-hub evaluate`: a labelled CSV (timestamp,value,label) on stdin, a report on stdout: how
 * many incidents the rules caught, how early, and how many false alerts they raised.
 */
export async function evaluateCommand(argv: string[], io: BacktestIo): Promise<number> {
  const say = (msg: string) => io.stderr.write(`iot-hub evaluate: ${msg}\n`);
  let rules: Rule[];
  let grace: number;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...RULE_OPTIONS,
        grace: { type: 'string', default: '0' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    rules = rulesFromArgs(values);
    grace = Number(values.grace);
    if (!Number.isInteger(grace) || grace < 0)
      throw new UsageError(`--grace ${values.grace}: expected a whole number of readings`);
    json = values.json ?? false;
  } catch (err) {
    const code = err instanceof IotError ? ` [${err.code}]` : '';
    say(`${(err as Error).message}${code}\n(iot-hub evaluate --help shows the usage)`);
    return EXIT_USAGE;
  }
  const evaluation = new Evaluation(rules, grace);
  let header: ReturnType<typeof parseHeader> | undefined;
  let labelIndex = -1;
  let lineNo = 0;
  let bad = 0;
  for await (const line of createInterface({
    input: io.stdin,
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    lineNo += 1;
    if (header === undefined) {
      header = parseHeader(line);
      const names = splitCsvLine(line.replace(/^\uFEFF/, ''));
      labelIndex = names.ok ? names.fields.map((f) => f.trim().toLowerCase()).indexOf('label') : -1;
      if (!header.ok || labelIndex < 0) {
        say('line 1: expected a header with the columns timestamp,value,label');
        return EXIT_BAD_INPUT;
      }
      continue;
    }
    if (line.trim() === '' || !header.ok) continue;
    const row = parseRow(line, header.header);
    const label = splitCsvLine(line);
    const text = label.ok ? label.fields[labelIndex]?.trim() : undefined;
    const problem = !row.ok
      ? row.error
      : text !== '0' && text !== '1'
        ? `label "${text ?? ''}" is neither 0 nor 1`
        : undefined;
    if (problem !== undefined || !row.ok) {
      bad += 1;
      if (bad <= MAX_REPORTED) say(`line ${lineNo}: ${problem}; row skipped`);
      continue;
    }
    if (!evaluation.add(row.time, row.value, text === '1')) {
      bad += 1;
      if (bad <= MAX_REPORTED)
        say(`line ${lineNo}: timestamp earlier than a previous row's; skipped`);
    }
  }
  if (header === undefined) {
    say('no input: expected a CSV header timestamp,value,label and rows on stdin');
    return EXIT_BAD_INPUT;
  }
  const report = evaluation.report();
  const described = rules.map((r) => `${r.id} (${r.detector})`).join(', ');
  io.stdout.write(
    json
      ? `${JSON.stringify({ rules: described, ...report }, null, 2)}\n`
      : format(report, described, grace),
  );
  if (bad > MAX_REPORTED) say(`${bad} rows skipped in all`);
  return bad > 0 ? EXIT_BAD_INPUT : EXIT_OK;
}

export function format(r: EvaluationReport, rules: string, grace: number): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const lines = [
    `rules: ${rules}`,
    `${r.readings} readings, ${r.incidents.length} incident${r.incidents.length === 1 ? '' : 's'} (${r.labelled} readings labelled)${grace > 0 ? `, grace ${grace} readings` : ''}`,
    `incidents caught  ${r.caught} of ${r.incidents.length}${r.incidents.length > 0 ? ` (${pct(r.caught / r.incidents.length)})` : ''}`,
    `alerts            ${r.alerts}: ${r.alerts - r.falseAlerts} during incidents, ${r.falseAlerts} false (${r.falseAlertsPer1000.toFixed(2)} per 1,000 readings)`,
  ];
  if (r.delays.length > 0) {
    const sorted = [...r.delays].sort((a, b) => a.readings - b.readings);
    const mid = sorted[sorted.length >> 1] as (typeof sorted)[number];
    lines.push(
      `detection delay   median ${mid.readings} readings (${duration(mid.ms)}), ${pct(mid.fraction)} into the incident`,
    );
  }
  lines.push('', 'incident start              readings  first alert after');
  for (const i of r.incidents) {
    const n = i.lastRow - i.firstRow + 1;
    const after = i.caughtAt
      ? `${i.caughtAt.row - i.firstRow} readings (${duration(i.caughtAt.time - i.start)})`
      : 'missed';
    lines.push(`${new Date(i.start).toISOString().padEnd(27)} ${String(n).padEnd(9)} ${after}`);
  }
  return `${lines.join('\n')}\n`;
}

function duration(ms: number): string {
  if (ms < 0) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}

const HELP = `iot-hub evaluate: scores detection rules against a series with labelled incidents, so you
can check rules against your own past incidents before deploying them.

Usage: iot-hub evaluate [--detector NAME [--param KEY=VALUE ...] | --rules FILE]
       [--grace N] [--json] < labelled.csv

Input: CSV with a header naming timestamp, value and label (other columns ignored); label is 1
for readings inside an incident, 0 otherwise; rows in time order. Labels are only used here to
score the alerts, never by the detectors.

An alert is an episode opening (what the hub would notify), with each rule's episode settings.
An incident (a run of rows labelled 1) is caught when an alert falls inside it, or within
--grace N readings after its end. Every other alert is a false alert.

Options:
  -d, --detector NAME    one detector with its default parameters (neither option: the
                         default detector, ${DEFAULT_DETECTOR})
  -p, --param KEY=VALUE  override a parameter of --detector (repeatable)
  -r, --rules FILE       the rules of a hub rules file that watch metric "value"
      --grace N          readings after an incident in which an alert still counts (default 0)
      --json             the report as JSON
  -h, --help             show this help

Output: incidents caught, alerts (during incidents and false, per 1,000 readings), the median
detection delay, and one line per incident. Exit codes: 0 scored, 1 bad input rows (reported
on stderr and skipped), 2 bad usage. See hub/docs/detectors.md, "Evaluating rules".
`;
