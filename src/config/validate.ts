// A merged plain config -> Config through the zod schema, every problem turned
// into one line naming the key, what it expects and what it got.
import { configJsonSchema, describeSchema, schemaAt, schemaChild, type JsonSchema } from './json-schema.js';
import { formatValue, isMapping, setOwn, valueAt, type Mapping } from './mapping.js';
import { ConfigProblems, type ConfigProblem, type Where } from './problems.js';
import { ConfigSchema, type Config } from './schema.js';
import { closestKey } from './suggest.js';

/** Where a key's problem lies: the file (and its line and column), or --set. part: the key itself (unknown key) or its value. */
export type Locate = (path: readonly string[], part: 'key' | 'value') => Where;

/**
 * The Config, or a ConfigProblems with every problem: those found before
 * (`earlier`, e.g. a refused tag) and the schema's, except the schema's
 * complaints under a path whose value was left out for an earlier problem.
 */
export function validate(raw: Mapping, locate: Locate, earlier: readonly ConfigProblem[] = [], leftOut: readonly string[][] = []): Config {
  const input = emptySectionsAsMappings(raw, configJsonSchema());
  const result = ConfigSchema.safeParse(input);
  const problems = [...earlier];
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String);
      if (leftOut.some((p) => isPrefix(p, path))) continue;
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          problems.push({ ...locate([...path, key], 'key'), keyPath: [...path, key].join('.'), problem: unknownKeyProblem(path, key) });
        }
        continue;
      }
      const expected = schemaAt(path);
      // custom = the schema's cross-field rules (superRefine), already in words.
      const problem =
        issue.code === 'custom' || expected === undefined
          ? issue.message
          : `expected ${describeSchema(expected)}, got ${formatValue(valueAt(input, path))}`;
      problems.push({ ...locate(path, 'value'), keyPath: path.join('.'), problem });
    }
  }
  if (problems.length > 0) throw new ConfigProblems(problems);
  if (!result.success) throw new Error('the schema refused a config without saying why');
  return result.data;
}

/** The top level: a mapping, or nothing at all (empty file, only comments, `~`) = all defaults. */
export function asMapping(value: unknown, source: string): Mapping {
  if (value === null || value === undefined) return {};
  if (isMapping(value)) return value;
  throw new ConfigProblems([{ source, keyPath: '', problem: notSectionsProblem(value) }]);
}

/** The top level of a config is a mapping of sections. */
export function notSectionsProblem(value: unknown): string {
  const sections = Object.keys(configJsonSchema().properties ?? {}).join(', ');
  return `expected a mapping of sections (${sections}) at the top level, got ${formatValue(value)}`;
}

/** `training:` with every line under it commented out is YAML null: read it as an empty section. */
function emptySectionsAsMappings(value: unknown, schema: JsonSchema): unknown {
  if (schema.type !== 'object') return value;
  if (value === null) return {};
  if (!isMapping(value)) return value;
  const out: Mapping = {};
  for (const [key, child] of Object.entries(value)) {
    const childSchema = schemaChild(schema, key);
    setOwn(out, key, childSchema === undefined ? child : emptySectionsAsMappings(child, childSchema));
  }
  return out;
}

function unknownKeyProblem(parent: readonly string[], key: string): string {
  const allowed = Object.keys(schemaAt(parent)?.properties ?? {});
  const guess = closestKey(key, allowed);
  if (guess !== undefined) return `unknown key (did you mean ${[...parent, guess].join('.')}?)`;
  return allowed.length > 0 ? `unknown key (allowed: ${allowed.join(', ')})` : 'unknown key';
}

/** a is b or one of b's ancestors. */
export function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((key, i) => key === b[i]);
}
