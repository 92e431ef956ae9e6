import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HUB_ENV_KEYS } from '../src/env-keys.ts';
import { HUB_CODES } from '../src/errors.ts';
import { API_ERRORS } from '../src/http/api/http-errors.ts';

// "Stable codes", enforced: every code the hub gives out is in its catalog (hub/src/errors.ts,
// and http/api/http-errors.ts for the REST API), and documented in hub/docs/errors.md.

const SRC = join(import.meta.dirname, '..', 'src');
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });

/** Every UPPER_SNAKE string literal of hub/src: a code, or an environment variable's name. */
function usedCodes(): Set<string> {
  const out = new Set<string>();
  for (const f of files(SRC))
    for (const [, code] of readFileSync(f, 'utf8').matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'/g))
      out.add(code as string);
  return out;
}

describe('hub codes', () => {
  it('every code the hub uses is in the catalog', () => {
    const catalog = new Set([
      ...Object.keys(HUB_CODES),
      ...Object.keys(API_ERRORS),
      ...Object.keys(HUB_ENV_KEYS),
    ]);
    expect([...usedCodes()].filter((c) => !catalog.has(c))).toEqual([]);
  });

  it('every catalogued code is explained in hub/docs/errors.md', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8');
    expect(Object.keys(HUB_CODES).filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
  });
});
