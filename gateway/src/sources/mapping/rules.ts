import { ConfigError } from '@iot-stream/contracts';
import type { MappingRule } from '../../config-mappings.ts';
import { compileJsonPath, type JsonPath } from './json-path.ts';
import {
  type Captures,
  compileTopicPattern,
  matchTopic,
  type TopicPattern,
} from './topic-pattern.ts';
import type { EpochUnit } from './values.ts';

/** One metric of a json rule, its path compiled. */
export interface CompiledMetric {
  name: string;
  path: JsonPath;
  unit?: string | undefined;
  optional: boolean;
}

/** A mapping rule checked and compiled once, at start. */
export interface CompiledRule {
  name: string;
  format: MappingRule['format'];
  pattern: TopicPattern;
  metrics: readonly CompiledMetric[];
  /** value: the metric name, or `{metric}` for the captured level. */
  metric: string;
  units: Readonly<Record<string, string>>;
  time?: { path: JsonPath; unit: EpochUnit } | undefined;
  seq?: JsonPath | undefined;
}

export interface RuleMatch {
  rule: CompiledRule;
  captures: Captures;
}

/**
 * The mapping rules of the configuration, compiled. `match` gives the first rule whose topic
 * matches, in the order they are written; the embedded broker asks `deviceOf` whose a topic is.
 */
export class Mappings {
  constructor(readonly rules: readonly CompiledRule[]) {}

  match(topic: string): RuleMatch | undefined {
    for (const rule of this.rules) {
      const captures = matchTopic(rule.pattern, topic);
      if (captures) return { rule, captures };
    }
    return undefined;
  }

  /** The device a topic belongs to under the first rule that matches it (ignore rules too). */
  deviceOf(topic: string): string | undefined {
    return this.match(topic)?.captures.device;
  }

  /** Subscription filters for an external broker: each storing rule's topic, captures as +. */
  filters(): string[] {
    return [
      ...new Set(this.rules.filter((r) => r.format !== 'ignore').map((r) => r.pattern.filter)),
    ];
  }
}

export const NO_MAPPINGS = new Mappings([]);

/**
 * Checks and compiles the rules (the schema has checked their shape). Throws ConfigError naming
 * the key (`mqtt.mappings.2.topic`) of the first fault, so a wrong rule stops the gateway at
 * start rather than quarantining every message.
 */
export function compileMappings(rules: readonly MappingRule[], key = 'mqtt.mappings'): Mappings {
  return new Mappings(rules.map((rule, i) => compileRule(rule, `${key}.${i}`)));
}

function compileRule(rule: MappingRule, key: string): CompiledRule {
  const fail = (field: string, why: string): never => {
    throw new ConfigError(`${key}.${field}: ${why} (rule ${rule.name})`);
  };
  const pattern = compileTopicPattern(rule.topic);
  if (typeof pattern === 'string')
    return fail('topic', `${JSON.stringify(rule.topic)}: ${pattern}`);
  if (!pattern.captures.has('device'))
    fail('topic', 'must capture the device id with {device}: a topic level names the device');
  const path = (field: string, source: string): JsonPath => {
    const compiled = compileJsonPath(source);
    return typeof compiled === 'string'
      ? fail(field, `${JSON.stringify(source)}: ${compiled}`)
      : compiled;
  };
  const metricNames = Object.keys(rule.metrics);
  const uses = (field: string, used: boolean, formats: string) => {
    if (used && !formats.split(' ').includes(rule.format))
      fail(field, `only for format ${formats.replace(' ', ' or ')}, not ${rule.format}`);
  };
  uses('metrics', metricNames.length > 0, 'json');
  uses('metric', rule.metric !== '', 'value');
  uses('units', Object.keys(rule.units).length > 0, 'value');
  uses('time', rule.time !== undefined, 'json');
  uses('seq', rule.seq !== '', 'json');
  if (rule.format === 'json' && metricNames.length === 0)
    fail('metrics', 'format json needs at least one metric');
  if (rule.format === 'value') {
    if (rule.metric === '') fail('metric', 'format value needs the metric name (or {metric})');
    if (/[{}]/.test(rule.metric) && rule.metric !== '{metric}')
      fail('metric', 'a name, or {metric} for the level the topic captures');
    if (rule.metric === '{metric}' && !pattern.captures.has('metric'))
      fail('metric', '{metric}: the topic has no {metric} level');
  }
  if (pattern.captures.has('metric') && rule.metric !== '{metric}')
    fail('topic', '{metric} is used only by format value with metric: "{metric}"');
  return {
    name: rule.name,
    format: rule.format,
    pattern,
    metrics: Object.entries(rule.metrics).map(([name, m]) => ({
      name,
      path: path(`metrics.${name}.path`, m.path),
      unit: m.unit,
      optional: m.optional === true,
    })),
    metric: rule.metric,
    units: rule.units,
    time: rule.time && { path: path('time.path', rule.time.path), unit: rule.time.unit },
    seq: rule.seq === '' ? undefined : path('seq', rule.seq),
  };
}
