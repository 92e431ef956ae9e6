/**
 * Topic patterns of the MQTT mapping rules: an MQTT topic filter (`+` one level, `#` the rest,
 * MQTT 3.1.1, 4.7.1) in which a whole level may also be a named capture, `{device}` or
 * `{metric}`, that matches one level as `+` does and keeps its text. Pure: no I/O.
 */

/** The captures a pattern may name. */
export const CAPTURES = ['device', 'metric'] as const;
export type Capture = (typeof CAPTURES)[number];

type Level =
  | { kind: 'literal'; text: string }
  | { kind: 'one' }
  | { kind: 'rest' }
  | { kind: 'capture'; name: Capture };

export interface TopicPattern {
  readonly source: string;
  /** The subscription filter: captures as `+`. */
  readonly filter: string;
  readonly levels: readonly Level[];
  readonly captures: ReadonlySet<Capture>;
}

export type Captures = Partial<Record<Capture, string>>;

/** Compiles a pattern; a string saying what is wrong when it is not one. */
export function compileTopicPattern(source: string): TopicPattern | string {
  if (source.length === 0) return 'empty';
  const parts = source.split('/');
  const levels: Level[] = [];
  const captures = new Set<Capture>();
  for (const [i, part] of parts.entries()) {
    const named = /^\{(\w+)\}$/.exec(part);
    if (named) {
      const name = named[1] as Capture;
      if (!CAPTURES.includes(name))
        return `{${named[1]}}: a capture is ${CAPTURES.map((c) => `{${c}}`).join(' or ')}`;
      if (captures.has(name)) return `{${name}} appears twice`;
      captures.add(name);
      levels.push({ kind: 'capture', name });
    } else if (part === '+') levels.push({ kind: 'one' });
    else if (part === '#') {
      // [MQTT-4.7.1-2]: the multi-level wildcard stands alone as the last level.
      if (i !== parts.length - 1) return '# must be the last level';
      levels.push({ kind: 'rest' });
    } else if (/[+#{}]/.test(part))
      return `level ${JSON.stringify(part)}: +, # and {capture} must fill a whole level`;
    else levels.push({ kind: 'literal', text: part });
  }
  const filter = levels
    .map((l) => (l.kind === 'literal' ? l.text : l.kind === 'rest' ? '#' : '+'))
    .join('/');
  return { source, filter, levels, captures };
}

/** The captures of a topic that the pattern matches (captured levels are never empty). */
export function matchTopic(pattern: TopicPattern, topic: string): Captures | undefined {
  const parts = topic.split('/');
  const { levels } = pattern;
  // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match topics starting with $.
  if (topic.startsWith('$') && levels[0]?.kind !== 'literal') return undefined;
  const captures: Captures = {};
  for (const [i, level] of levels.entries()) {
    // `a/#` also matches `a` [MQTT-4.7.1-2].
    if (level.kind === 'rest') return captures;
    const part = parts[i];
    if (part === undefined) return undefined;
    if (level.kind === 'literal' && part !== level.text) return undefined;
    if (level.kind === 'capture') {
      if (part === '') return undefined;
      captures[level.name] = part;
    }
  }
  return parts.length === levels.length ? captures : undefined;
}
