// Detection quality on NAB's development half, in-process (seconds, not minutes): the same
// Backtest class as `iot-hub backtest`, NAB's scoring ported in nab-score.ts.
//   npx tsx test/bench/nab/run.ts [--rules FILE | --detector NAME [--param k=v ...]] [--dir D] [--files]
// (neither --rules nor --detector: the default detector, as `iot-hub backtest`)
// Prints the three profiles' normalised scores (threshold optimised as NAB does), the standard
// score per category at the standard threshold (and at the category's own best), and how often
// the score reaches 0.5 where nothing is labelled. The reference remains ../shared/nab-dev/score (NAB's own Python).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Backtest } from '../../../hub/src/backtest/backtest.ts';
import { RULE_OPTIONS, rulesFromArgs } from '../../../hub/src/backtest/command.ts';
import type { Rule } from '../../../hub/src/detect/rules.ts';
import { type NabSeries, nabScore, PROFILES } from './nab-score.ts';

export function loadNab(dir: string): NabSeries[] {
  const windows = JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8'));
  const out: NabSeries[] = [];
  for (const cat of readdirSync(join(dir, 'data')).sort()) {
    if (cat.endsWith('.md')) continue;
    for (const file of readdirSync(join(dir, 'data', cat)).sort()) {
      const name = `${cat}/${file}`;
      const rows = readFileSync(join(dir, 'data', cat, file), 'utf8')
        .trim()
        .split(/\r?\n/)
        .slice(1);
      const timestamps = rows.map((r) => r.split(',')[0] as string);
      const values = rows.map((r) => Number(r.split(',')[1]));
      const index = new Map(timestamps.map((t, i) => [t, i]));
      const at = (t: string) => {
        const i = index.get(t.replace(/\.0+$/, ''));
        if (i === undefined) throw new Error(`${name}: window bound ${t} is not a row`);
        return i;
      };
      const w = (windows[name] ?? []) as [string, string][];
      out.push({ name, timestamps, values, windows: w.map(([a, b]) => [at(a), at(b)]) });
    }
  }
  return out;
}

export function scoreSeries(rules: readonly Rule[], s: NabSeries): number[] {
  const bt = new Backtest(rules);
  return s.timestamps.map((t, i) => {
    const r = bt.score(Date.parse(`${t.replace(' ', 'T')}Z`), s.values[i] as number);
    return r === undefined ? 0 : Math.min(1, Math.max(0, r.score));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      ...RULE_OPTIONS,
      dir: { type: 'string', default: join(import.meta.dirname, '../../../../shared/nab-dev') },
      files: { type: 'boolean' },
    },
  });
  const series = loadNab(values.dir as string);
  const rules = rulesFromArgs(values);
  const started = performance.now();
  const scores = series.map((s) => scoreSeries(rules, s));
  const ms = performance.now() - started;
  const rows = series.reduce((n, s) => n + s.values.length, 0);
  const line: string[] = [];
  for (const [name, p] of Object.entries(PROFILES)) {
    const r = nabScore(series, scores, p);
    line.push(`${name} ${r.score.toFixed(1)} (threshold ${r.threshold.toFixed(4)})`);
  }
  console.log(line.join('  |  '));
  const std = nabScore(series, scores, PROFILES.standard as never);
  const cats = [...new Set(series.map((s) => s.name.split('/')[0] as string))];
  const perCat: string[] = [];
  for (const c of cats) {
    const idx = series.map((s, i) => (s.name.startsWith(`${c}/`) ? i : -1)).filter((i) => i >= 0);
    const sub = idx.map((i) => series[i] as NabSeries);
    const alarms = idx.reduce(
      (n, i) => n + (scores[i] as number[]).filter((x) => x >= std.threshold).length,
      0,
    );
    if (sub.every((s) => s.windows.length === 0)) {
      perCat.push(`${c}: ${alarms} alarms`);
      continue;
    }
    const own = idx.map((i) => scores[i] as number[]);
    const lines = Object.entries(PROFILES).map(([name, p]) => {
      const at = nabScore(series, scores, p).threshold;
      return `${name} ${nabScore(sub, own, p, at).score.toFixed(1)}`;
    });
    perCat.push(`${c}: ${lines.join(', ')}; ${alarms} alarms`);
  }
  console.log(perCat.join('\n'));
  let outside = 0;
  let outsideHigh = 0;
  let clean = 0;
  let cleanHigh = 0;
  series.forEach((s, k) => {
    const sc = scores[k] as number[];
    sc.forEach((x, i) => {
      if (s.windows.some(([a, b]) => i >= a && i <= b)) return;
      outside += 1;
      if (x >= 0.5) outsideHigh += 1;
      if (s.windows.length > 0) return;
      clean += 1;
      if (x >= 0.5) cleanHigh += 1;
    });
  });
  const share = (n: number, of: number) => `${((100 * n) / of).toFixed(3)}% (${n} of ${of})`;
  console.log(
    `score >= 0.5: outside labelled windows ${share(outsideHigh, outside)}; on the series without anomalies ${share(cleanHigh, clean)}`,
  );
  console.log(
    `${rows} rows in ${(ms / 1000).toFixed(1)} s (${((ms * 1000) / rows).toFixed(1)} us/row)`,
  );
  if (values.files)
    series.forEach((s, k) => {
      const one = nabScore([s], [scores[k] as number[]], PROFILES.standard as never);
      const alarms = (scores[k] as number[]).filter((x) => x >= std.threshold).length;
      console.log(
        `  ${s.name}: windows ${s.windows.length}, alarms at global threshold ${alarms}, own ${one.score.toFixed(1)}`,
      );
    });
}
