export interface Row {
  figure: string;
  value: string;
  /** e.g. '>= 50000'; '' when the figure has no target. */
  target: string;
  /** undefined when there is no target or the figure is missing. */
  met: boolean | undefined;
}

export const fmt = (n: number | undefined, unit = ''): string =>
  n === undefined || Number.isNaN(n) ? 'n/a' : `${n.toLocaleString('en-US')}${unit}`;

/** A row with an "at least" / "at most" goal. */
export function goal(
  figure: string,
  value: number | undefined,
  unit: string,
  kind: 'min' | 'max',
  limit: number,
): Row {
  const met =
    value === undefined || Number.isNaN(value)
      ? undefined
      : kind === 'min'
        ? value >= limit
        : value <= limit;
  return {
    figure,
    value: fmt(value, unit),
    target: `${kind === 'min' ? '>=' : '<='} ${fmt(limit, unit)}`,
    met,
  };
}

export const info = (figure: string, value: string): Row => ({
  figure,
  value,
  target: '',
  met: undefined,
});

export function printTable(rows: Row[]): void {
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.target,
    r.met === undefined ? (r.target ? '?' : '') : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['figure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (i === 1 ? x.padStart(widths[i] ?? 0) : x.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}
