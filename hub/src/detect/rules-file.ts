import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { RulesError } from '../state/errors.ts';
import { parseRules, type Rule } from './rules.ts';

/** Reads and validates a YAML rules file (see hub/rules.example.yaml). */
export function readRulesFile(file: string): Rule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RulesError(`cannot read rules file ${file}: ${(cause as Error).message}`, { cause });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (cause) {
    throw new RulesError(`rules file ${file} is not valid YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseRules(doc, `rules file ${file}`);
}
