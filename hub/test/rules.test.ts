import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../src/detect/glob.ts';
import { parseRules } from '../src/detect/rules.ts';
import { readRulesFile } from '../src/detect/rules-file.ts';

function problems(doc: unknown): string {
  try {
    parseRules(doc);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('RULES_INVALID');
    return (err as Error).message;
  }
  throw new Error('expected the rules to be rejected');
}

describe('rules', () => {
  it('hub/rules.example.yaml is valid', () => {
    const rules = readRulesFile(join(import.meta.dirname, '..', 'rules.example.yaml'));
    expect(rules.map((r) => r.id)).toContain('silent-devices');
    expect(new Set(rules.map((r) => r.detector)).size).toBeGreaterThanOrEqual(6);
  });

  it('completes defaults for parameters, severity and episode settings', () => {
    const [rule] = parseRules({ rules: [{ id: 'z', metric: 'temp*', detector: 'zscore' }] });
    expect(rule).toEqual({
      id: 'z',
      metric: ['temp*'],
      devices: null,
      detector: 'zscore',
      params: { threshold: 4, window: 100, warmup: 20, acceptAfter: 500, minStd: 0 },
      severity: 'warning',
      episode: {
        openAt: 0.5,
        closeAt: 0.3,
        minDurationMs: 0,
        quietMs: 60_000,
        renotifyMs: 3_600_000,
      },
    });
  });

  it('names the rule and the key of every problem', () => {
    const message = problems({
      rules: [
        { id: 'ok', metric: 't', detector: 'zscore' },
        { id: 'bad-param', metric: 't', detector: 'zscore', params: { threshold: 'high' } },
        { id: 'typo', metric: 't', detector: 'zscore', params: { treshold: 3 } },
        { id: 'what', metric: 't', detector: 'magic' },
        { id: 'sev', metric: 't', detector: 'cusum', severity: 'fatal' },
        { id: 'hyst', metric: 't', detector: 'cusum', episode: { openAt: 0.4, closeAt: 0.6 } },
        { id: 'ok', metric: 't', detector: 'range', params: { max: 3 } },
        { id: 'range', metric: 't', detector: 'range' },
        { metric: 't', detector: 'zscore' },
      ],
    });
    expect(message).toContain(
      'rules[1] (bad-param): params.threshold: Expected number (got "high")',
    );
    expect(message).toContain('rules[2] (typo): params.treshold: unknown key (got 3)');
    expect(message).toMatch(
      /rules\[3\] \(what\): detector: unknown detector "magic"; expected one of range, rate/,
    );
    expect(message).toContain(
      'rules[4] (sev): severity: expected one of info, warning, critical (got "fatal")',
    );
    expect(message).toContain('rules[5] (hyst): episode.closeAt: 0.6 is above openAt 0.4');
    expect(message).toContain('rules[6] (ok): id: duplicate rule id "ok"');
    expect(message).toContain('rules[7] (range): params: range needs min, max or both');
    expect(message).toMatch(/rules\[8\]: id: /);
  });

  it('rejects a document without a rules list, and unknown top-level keys', () => {
    expect(problems({ rule: [] })).toMatch(/expected a mapping with a list under "rules"/);
    expect(problems({ rules: [], extra: 1 })).toMatch(/extra: unknown top-level key/);
    expect(problems({ rules: [{ id: 'x', metric: ['a b'], detector: 'zscore' }] })).toMatch(
      /rules\[0\] \(x\): metric: expected a name or glob/,
    );
  });

  it('reports unreadable and non-YAML files with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'rules: [ {id: x\n');
    expect(() => readRulesFile(file)).toThrow(/rules file .*rules.yaml is not valid YAML/);
    expect(() => readRulesFile(join(dir, 'missing.yaml'))).toThrow(/cannot read rules file/);
  });

  it('globs: * any run, ? one character, everything else literal', () => {
    expect(globToRegExp('temp*').test('temperature')).toBe(true);
    expect(globToRegExp('temp*').test('xtemp')).toBe(false);
    expect(globToRegExp('sim-00?').test('sim-001')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});
