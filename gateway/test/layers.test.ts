import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The gateway's layout rule (gateway/docs/architecture.md, "Layout"), as the hub's: each
// folder of gateway/src is a layer and a file imports only from its own folder or from lower
// layers. The sources and the outbox see the other adapters only through ports.ts; the outbox
// sits above the sources only because its migration 4 scrubs MQTT evidence with their code.

const SRC = join(import.meta.dirname, '..', 'src');

/** Layer of each top-level folder (or root file) of gateway/src. */
const LAYER: Readonly<Record<string, number>> = {
  'version.ts': 0,
  'env-keys.ts': 0,
  'errors.ts': 0,
  'config-modbus.ts': 0, // the modbus section's schema, below config.ts which includes it
  'ports.ts': 1,
  'config-mappings.ts': 0, // a schema only, part of config.ts's
  'config.ts': 1,
  sources: 2,
  outbox: 3,
  ops: 4,
  uplink: 5,
  'main.ts': 6,
  'cli.ts': 7,
  'index.ts': 8,
};

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const layerOf = (path: string) => relative(SRC, path).split('/')[0] as string;

describe('gateway layers', () => {
  it('gives every folder and root file of gateway/src a layer', () => {
    const unplaced = new Set(
      tsFiles(SRC)
        .map(layerOf)
        .filter((u) => LAYER[u] === undefined),
    );
    expect([...unplaced]).toEqual([]);
  });

  it('has no import that runs upwards or sideways', () => {
    const wrong: string[] = [];
    for (const file of tsFiles(SRC)) {
      const from = layerOf(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(
        /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g,
      )) {
        const to = layerOf(resolve(dirname(file), spec as string));
        if (to !== from && !((LAYER[to] as number) < (LAYER[from] as number)))
          wrong.push(`${relative(SRC, file)} -> ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
