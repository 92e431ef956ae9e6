import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FRAME_ERROR_CODES } from '@iot-stream/firmware-protocol';
import { describe, expect, it } from 'vitest';
import { DROP_REASONS, ERROR_CODES, QUARANTINE_CODES, REFUSAL_REASONS } from '../src/errors.ts';

// The catalog of the gateway's stable codes (gateway/src/errors.ts) against what documents
// them, and against code that would spell a code out instead of naming it from the catalog.

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The `| `code` | meaning |` rows of the first table after `heading`. */
function tableAfter(doc: string, heading: string): Record<string, string> {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const table = doc.slice(start).match(/(?:^\|.*\n?)+/m)?.[0] ?? '';
  return Object.fromEntries(
    [...table.matchAll(/^\|\s*`([^`]+)`\s*\|\s*(.*?)\s*\|\s*$/gm)].map((m) => [m[1], m[2]]),
  );
}

/** The codes a metrics table names in the row of `metric`: backticked words, settings left out. */
function codesInRow(doc: string, metric: string): string[] {
  const row = doc.split('\n').find((l) => l.startsWith(`| \`${metric}`));
  expect(row, metric).toBeDefined();
  const cells = (row as string).split('|').slice(3).join('|');
  return [...cells.matchAll(/`([^`]+)`/g)]
    .map((m) => m[1] as string)
    .filter((word) => /^[A-Za-z0-9_-]+$/.test(word));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const CATALOGS = {
  '## Errors': ERROR_CODES,
  '## Quarantine codes': QUARANTINE_CODES,
  '## Refusal reasons': REFUSAL_REASONS,
  '## Drop reasons': DROP_REASONS,
};

describe('the gateway code catalog', () => {
  it('gateway/docs/errors.md lists every code with its meaning, and nothing else', () => {
    const doc = read('gateway/docs/errors.md');
    for (const [heading, catalog] of Object.entries(CATALOGS))
      expect(tableAfter(doc, heading), heading).toEqual(catalog);
  });

  it('has every code the firmware protocol can make the gateway quarantine', () => {
    for (const code of [...FRAME_ERROR_CODES, 'JSON_INVALID', 'PAYLOAD_INVALID'])
      expect(Object.keys(QUARANTINE_CODES)).toContain(code);
  });

  it('names the reasons the metrics tables name (docs/metrics.md, README)', () => {
    for (const doc of [read('docs/metrics.md'), read('README.md')]) {
      expect(new Set(codesInRow(doc, 'iot_gateway_rejected_total'))).toEqual(
        new Set(Object.keys(REFUSAL_REASONS)),
      );
      expect(new Set(codesInRow(doc, 'iot_gateway_dropped_total'))).toEqual(
        new Set(Object.keys(DROP_REASONS)),
      );
      for (const code of codesInRow(doc, 'iot_gateway_quarantined_total'))
        expect(Object.keys(QUARANTINE_CODES)).toContain(code);
    }
  });

  it('is the only place in gateway/src that spells a code out', () => {
    const codes = new Set(Object.values(CATALOGS).flatMap((c) => Object.keys(c)));
    const spelled: string[] = [];
    const src = join(ROOT, 'gateway', 'src');
    for (const file of sourceFiles(src)) {
      if (relative(src, file) === 'errors.ts') continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/(['"])([A-Za-z0-9_-]+)\1/g))
        if (codes.has(m[2] as string)) spelled.push(`${relative(src, file)}: ${m[0]}`);
    }
    expect(spelled).toEqual([]);
  });
});
