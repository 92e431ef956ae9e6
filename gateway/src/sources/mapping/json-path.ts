/**
 * Where a value sits in a JSON payload, in the mapping rules' path syntax: keys joined by dots
 * (`ENERGY.Power`; a key may hold any character but `.`, `[`, `]` and `"`, so `switch:0.apower`
 * works), `[n]` for item n of an array (`sensors[0].value`), `["a.b"]` for a key written as a
 * JSON string (any key). Pure: no I/O.
 */

export type JsonPath = readonly (string | number)[];

const TOKEN = /\.?([^.[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** Compiles a path; a string saying what is wrong when it is not one. */
export function compileJsonPath(source: string): JsonPath | string {
  if (source.length === 0) return 'empty';
  const path: Array<string | number> = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const at = TOKEN.lastIndex;
    // A dot separates two steps: never first, last or doubled.
    if (source[at] === '.' && (at === 0 || at === source.length - 1))
      return `a dot at ${at} separates nothing`;
    const m = TOKEN.exec(source);
    if (!m) return `unexpected ${JSON.stringify(source.slice(at, at + 10))} at ${at}`;
    if (m[1] !== undefined) path.push(m[1]);
    else if (m[2] !== undefined) path.push(Number(m[2]));
    else path.push(JSON.parse(m[3] as string) as string);
  }
  return path;
}

/** The value at `path`, or undefined when some step is not there. */
export function valueAt(root: unknown, path: JsonPath): unknown {
  let node = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(node)) return undefined;
      node = node[step];
    } else {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
      if (!Object.hasOwn(node, step)) return undefined;
      node = (node as Record<string, unknown>)[step];
    }
  }
  return node;
}
