import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The hub's layout rule (hub/docs/architecture.md, "Layout"): each folder of hub/src is a layer,
// and a file imports only from its own folder or from lower layers. Folders of one layer are
// independent of each other (the two stores, the two inputs). Pure code at the bottom imports
// nothing of the hub above it; adapters never import each other; only the wiring sees them all.

const SRC = join(import.meta.dirname, '..', 'src');

/** Layer of each top-level folder (or root file) of hub/src. */
const LAYER: Record<string, number> = {
  'version.ts': 0,
  'env-keys.ts': 0,
  'errors.ts': 0,
  state: 0,
  windows: 1,
  detect: 1,
  processing: 2,
  'ports.ts': 3,
  'config.ts': 3,
  store: 4,
  backtest: 4,
  notify: 4,
  influx: 5,
  sqlite: 5,
  'kafka-common': 4,
  kafka: 5,
  'kafka-platformatic': 5,
  local: 5,
  pipeline: 6,
  http: 7,
  ops: 7,
  wiring: 8,
  'main.ts': 9,
  'cli.ts': 10,
  'index.ts': 11,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'static' ? [] : files(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const unitOf = (path: string) => relative(SRC, path).split('/')[0] as string;

describe('hub layers', () => {
  it('every folder of hub/src has a layer', () => {
    const units = new Set(files(SRC).map(unitOf));
    expect([...units].filter((u) => LAYER[u] === undefined)).toEqual([]);
  });

  it('no import runs upwards or sideways between folders', () => {
    const wrong: string[] = [];
    for (const file of files(SRC)) {
      const from = unitOf(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(file), spec as string);
        const to = unitOf(target);
        if (to === from) continue;
        const ok = (LAYER[to] as number) < (LAYER[from] as number);
        if (!ok) wrong.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
