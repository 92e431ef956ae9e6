import { ID_PATTERN } from '@iot-stream/contracts';
import { type TSchema, Type } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { RulesError } from '../state/errors.ts';
import type { DetectorKind } from './detector.ts';
import type { EpisodeConfig } from './episodes.ts';
import { GLOB_PATTERN } from './glob.ts';
import { DEFAULT_DETECTOR, DETECTOR_KINDS, DETECTORS, isDetectorKind } from './registry.ts';

export type Severity = 'info' | 'warning' | 'critical';

/** A validated rule, parameters and episode settings completed with their defaults. */
export interface Rule {
  id: string;
  /** Globs of metric names this rule watches. */
  metric: string[];
  /** Globs of device ids; null = every device. */
  devices: string[] | null;
  detector: DetectorKind;
  params: Record<string, unknown>;
  severity: Severity;
  episode: EpisodeConfig;
}

export const EpisodeSchema = Type.Object(
  {
    openAt: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    closeAt: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
    minDurationMs: Type.Integer({ minimum: 0, default: 0 }),
    quietMs: Type.Integer({ minimum: 0, default: 60_000 }),
    renotifyMs: Type.Integer({ minimum: 0, default: 3_600_000 }),
  },
  { additionalProperties: false, default: {} },
);

const Globs = Type.Union([
  Type.String({ pattern: GLOB_PATTERN }),
  Type.Array(Type.String({ pattern: GLOB_PATTERN }), { minItems: 1 }),
]);

export const RuleSchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN }),
    description: Type.Optional(Type.String()),
    metric: Globs,
    devices: Type.Optional(Globs),
    detector: Type.String({ default: DEFAULT_DETECTOR }),
    params: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
    severity: Type.Union(
      ['info', 'warning', 'critical'].map((s) => Type.Literal(s)),
      { default: 'warning' },
    ),
    episode: EpisodeSchema,
  },
  { additionalProperties: false },
);

/**
 * Validates a parsed rules document (`{ rules: [...] }`) and completes defaults. Throws one
 * RulesError listing every problem, each naming the rule (index and id) and the key.
 */
export function parseRules(doc: unknown, source = 'rules'): Rule[] {
  const list = (doc as { rules?: unknown } | null)?.rules;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(list)) {
    throw new RulesError(`${source}: expected a mapping with a list under "rules"`);
  }
  const extra = Object.keys(doc).filter((k) => k !== 'rules');
  const problems = extra.map((k) => `${k}: unknown top-level key (only "rules" is allowed)`);
  const rules: Rule[] = [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    const id = (raw as { id?: unknown } | null)?.id;
    const where = `rules[${i}]${typeof id === 'string' ? ` (${id})` : ''}`;
    const { rule, errors } = parseRule(raw);
    problems.push(...errors.map((e) => `${where}: ${e}`));
    if (rule && seen.has(rule.id)) problems.push(`${where}: id: duplicate rule id "${rule.id}"`);
    if (rule) {
      seen.add(rule.id);
      rules.push(rule);
    }
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((p) => `  ${p}`);
    if (problems.length > 20) shown.push(`  ... and ${problems.length - 20} more`);
    throw new RulesError(`invalid ${source}:\n${shown.join('\n')}`);
  }
  return rules;
}

function parseRule(raw: unknown): { rule?: Rule; errors: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { errors: ['expected a mapping with id, metric, detector, ...'] };
  }
  const value = Value.Default(RuleSchema, Value.Clone(raw)) as Record<string, unknown>;
  const errors = schemaErrors(RuleSchema, value);
  const detector = value.detector;
  if (typeof detector === 'string' && !isDetectorKind(detector)) {
    errors.push(
      `detector: unknown detector "${detector}"; expected one of ${DETECTOR_KINDS.join(', ')}`,
    );
  }
  const ep = value.episode as EpisodeConfig;
  if (errors.length === 0 && ep.closeAt > ep.openAt) {
    errors.push(`episode.closeAt: ${ep.closeAt} is above openAt ${ep.openAt}`);
  }
  if (errors.length > 0 || !isDetectorKind(detector as string)) return { errors };
  const kind = detector as DetectorKind;
  const params = detectorParams(kind, value.params);
  if (params.errors.length > 0) return { errors: params.errors };
  const list = (g: unknown) => (typeof g === 'string' ? [g] : (g as string[]));
  const rule: Rule = {
    id: value.id as string,
    metric: list(value.metric),
    devices: value.devices === undefined ? null : list(value.devices),
    detector: kind,
    params: params.params,
    severity: value.severity as Severity,
    episode: { ...ep },
  };
  return { rule, errors: [] };
}

/** Validates a detector's parameters and completes their defaults; errors name `params.KEY`. */
export function detectorParams(
  kind: DetectorKind,
  raw: unknown,
): { params: Record<string, unknown>; errors: string[] } {
  const spec = DETECTORS[kind];
  const params = Value.Default(spec.params, Value.Clone(raw ?? {})) as Record<string, unknown>;
  const errors = schemaErrors(spec.params, params).map((e) => `params.${e}`);
  if (errors.length === 0) {
    const problem = spec.check?.(params);
    if (problem) errors.push(`params: ${kind} ${problem}`);
  }
  return { params, errors };
}

function schemaErrors(schema: TSchema, value: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const key = e.path.replace(/^\//, '').replaceAll('/', '.') || '(rule)';
    if (seen.has(key)) continue; // a union reports each branch; one line per key is enough
    seen.add(key);
    out.push(`${key}: ${describe(e)} (got ${JSON.stringify(e.value)})`);
  }
  return out;
}

function describe(e: ValueError): string {
  const options = (e.schema as { anyOf?: Array<{ const?: unknown }> }).anyOf;
  if (options?.every((o) => o.const !== undefined)) {
    return `expected one of ${options.map((o) => o.const).join(', ')}`;
  }
  if (options) return 'expected a name or glob (e.g. "temp*"), or a list of them';
  if (e.message === 'Unexpected property') return 'unknown key';
  return e.message;
}
