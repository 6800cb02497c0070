// A merged plain config -> Config through the zod schema, the first problem
// turned into one ConfigError naming the key, what it expects and what it got.
import { ConfigError } from '../errors.js';
import { configJsonSchema, describeSchema, schemaAt, schemaChild, type JsonSchema } from './json-schema.js';
import { formatValue, isMapping, setOwn, valueAt, type Mapping } from './mapping.js';
import { ConfigSchema, type Config } from './schema.js';
import { closestKey } from './suggest.js';

/** sourceOf names where a key's value came from (the file, or --set) in the error. */
export function validate(raw: Mapping, sourceOf: (keyPath: string) => string): Config {
  const input = emptySectionsAsMappings(raw, configJsonSchema());
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  // One error, the first: fixing it may well make the others go away.
  const issue = result.error.issues[0];
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const keyPath = [...path, issue.keys[0]].join('.');
    throw new ConfigError(sourceOf(keyPath), keyPath, unknownKeyProblem(path, issue.keys[0]));
  }
  const keyPath = path.join('.');
  const expected = schemaAt(path);
  // custom = the schema's cross-field rules (superRefine), already in words.
  const problem =
    issue.code === 'custom' || expected === undefined
      ? issue.message
      : `expected ${describeSchema(expected)}, got ${formatValue(valueAt(input, path))}`;
  throw new ConfigError(sourceOf(keyPath), keyPath, problem);
}

/** The top level: a mapping, or nothing at all (empty file, only comments, `~`) = all defaults. */
export function asMapping(value: unknown, source: string): Mapping {
  if (value === null || value === undefined) return {};
  if (isMapping(value)) return value;
  const sections = Object.keys(configJsonSchema().properties ?? {}).join(', ');
  const problem = `expected a mapping of sections (${sections}) at the top level, got ${formatValue(value)}`;
  throw new ConfigError(source, '', problem);
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
