/**
 * Glob patterns for metric and device names in rules: `*` matches any run of characters
 * (including none), `?` exactly one; everything else matches itself. Names are
 * `[A-Za-z0-9._-]`, so there is nothing else to escape in practice.
 */
export const GLOB_PATTERN = '^[A-Za-z0-9._*?-]{1,64}$';

export function globToRegExp(glob: string): RegExp {
  const body = [...glob]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** A matcher for a list of globs: true when any of them matches. */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  const res = globs.map(globToRegExp);
  return (name) => res.some((re) => re.test(name));
}
