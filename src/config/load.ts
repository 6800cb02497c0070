// Config file + --set overrides -> one validated Config, and every mistake
// explained in one line naming the source (file or --set), the dotted key,
// and what was expected vs found:
//
//   config.yaml: training.lr: expected a positive number, got -1
//   config.yaml: YAML syntax error at line 3, column 1: Tabs are not allowed as indentation
//   --set: training.learning_rate: unknown key (did you mean training.lr?)
//
// What a key expects is read from the schema itself (converted once to JSON
// Schema, a plain walkable tree), so there is no per-key message table and the
// messages follow the schema when a knob is added.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { ConfigSchema, defaultConfig, type Config } from './schema.js';

type Mapping = Record<string, unknown>;
type JsonSchema = z.core.JSONSchema.JSONSchema;

/**
 * Read a JSON or YAML config (by extension .json/.yaml/.yml; anything else: try YAML),
 * apply --set overrides in order, validate. file undefined = empty config.
 * `base` (say, the config stored in a weights file) lies under the file: the
 * file's keys replace the base's, section by section; lists are replaced whole.
 */
export function loadConfig(file: string | undefined, sets: readonly string[] = [], base: Mapping = {}): Config {
  const raw = mergeMappings(structuredClone(base), file === undefined ? {} : readConfigFile(file));
  const setPaths = sets.map((assignment) => {
    applySet(raw, assignment);
    return parseAssignment(assignment).path.join('.');
  });
  // One validation of the merged result (so `--set loss=cross_entropy --set
  // model.output=softmax` works in either order); a problem is blamed on
  // --set when its key lies on a path some --set wrote.
  const fileSource = file ?? '--set';
  return validate(raw, (keyPath) => (setPaths.some((p) => pathsOverlap(p, keyPath)) ? '--set' : fileSource));
}

/** target's keys overwritten by source's, recursing into mappings present in both. */
function mergeMappings(target: Mapping, source: Mapping): Mapping {
  for (const [k, v] of Object.entries(source)) {
    const t = ownValue(target, k);
    setOwn(target, k, isMapping(t) && isMapping(v) ? mergeMappings(t, v) : v);
  }
  return target;
}

/** Validate an already-parsed plain object (e.g. config stored in a weights file's metadata). source names where it came from in errors. */
export function parseConfig(raw: unknown, source: string): Config {
  return validate(asMapping(raw, source), () => source);
}

/** Apply one "a.b.c=value" override onto a plain object (mutates/returns it); value read as YAML (numbers, booleans, null, flow lists like [784,100,10], plain strings). Errors -> ConfigError('--set', path, ...). */
export function applySet(raw: Record<string, unknown>, assignment: string): Record<string, unknown> {
  const { path, valueText } = parseAssignment(assignment);
  const keyPath = path.join('.');
  const parsed = parseYaml(valueText, false);
  if ('reason' in parsed) {
    throw new ConfigError('--set', keyPath, `cannot read value ${JSON.stringify(valueText)}: ${parsed.reason}`);
  }
  let node = raw;
  for (let i = 0; i < path.length - 1; i++) {
    const next = ownValue(node, path[i]);
    if (next === undefined || next === null) {
      // Missing (or an empty `section:` in the file): start the section.
      const section: Mapping = {};
      setOwn(node, path[i], section);
      node = section;
    } else if (isMapping(next)) {
      node = next;
    } else {
      const prefix = path.slice(0, i + 1).join('.');
      throw new ConfigError('--set', keyPath, `${prefix} is ${formatValue(next)}, not a mapping`);
    }
  }
  setOwn(node, path[path.length - 1], parsed.value);
  return raw;
}

/** Keys whose value differs from the default, as dotted paths with values, for the start-up summary: [{key:'training.lr', value:0.1, default:0.5}, ...]. Arrays compare by value. */
export function configDiff(
  config: Config,
  defaults: Config = defaultConfig(),
): Array<{ key: string; value: unknown; default: unknown }> {
  const diff: Array<{ key: string; value: unknown; default: unknown }> = [];
  const walk = (value: unknown, def: unknown, path: string[]): void => {
    if (isMapping(value) && isMapping(def)) {
      for (const key of Object.keys(value)) walk(value[key], def[key], [...path, key]);
    } else if (!isDeepStrictEqual(value, def)) {
      diff.push({ key: path.join('.'), value, default: def });
    }
  };
  walk(config, defaults, []);
  return diff;
}

// ---------------------------------------------------------------- reading

function readConfigFile(file: string): Mapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '', `cannot read config: ${fsReason(err)}`);
  }
  // JSON is YAML 1.2; the yaml package's strict 'json' schema rejects bare
  // words like `relu` and gives every syntax error a line and column, which
  // JSON.parse does not do consistently across Node versions.
  const json = extname(file).toLowerCase() === '.json';
  const parsed = parseYaml(text, json);
  if ('reason' in parsed) {
    const where = parsed.line === undefined ? '' : ` at line ${parsed.line}, column ${parsed.col}`;
    throw new ConfigError(file, '', `${json ? 'JSON' : 'YAML'} syntax error${where}: ${parsed.reason}`);
  }
  return asMapping(parsed.value, file);
}

/** Parse one YAML (or JSON) document; a problem comes back as a one-line reason and, when known, its position. */
function parseYaml(text: string, json: boolean): { value: unknown } | { reason: string; line?: number; col?: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, schema: json ? 'json' : 'core' });
  const first = doc.errors[0];
  if (first !== undefined) return { reason: firstLine(first.message), ...lineCounter.linePos(first.pos[0]) };
  try {
    return { value: doc.toJS() };
  } catch (err) {
    // Only alias problems surface here (`*x` before `&x`, alias bombs), without a position.
    if (!(err instanceof Error)) throw err;
    return { reason: firstLine(err.message) };
  }
}

function fsReason(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return typeof code === 'string' ? code : err instanceof Error ? firstLine(err.message) : String(err);
}

/** The top level: a mapping, or nothing at all (empty file, only comments, `~`) = all defaults. */
function asMapping(value: unknown, source: string): Mapping {
  if (value === null || value === undefined) return {};
  if (isMapping(value)) return value;
  const sections = Object.keys(configJsonSchema().properties ?? {}).join(', ');
  const problem = `expected a mapping of sections (${sections}) at the top level, got ${formatValue(value)}`;
  throw new ConfigError(source, '', problem);
}

/** "a.b.c=value" -> path and value text. */
function parseAssignment(assignment: string): { path: string[]; valueText: string } {
  const eq = assignment.indexOf('=');
  const path = assignment.slice(0, Math.max(eq, 0)).trim().split('.');
  if (eq < 0 || path.some((key) => key === '')) {
    throw new ConfigError('--set', assignment, 'expected key.path=value');
  }
  return { path, valueText: assignment.slice(eq + 1) };
}

// ---------------------------------------------------------------- validation

function validate(raw: Mapping, sourceOf: (keyPath: string) => string): Config {
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
      : `expected ${describe(expected)}, got ${formatValue(valueAt(input, path))}`;
  throw new ConfigError(sourceOf(keyPath), keyPath, problem);
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

// ---------------------------------------------------------------- the schema as data

let jsonSchema: JsonSchema | undefined;

/** ConfigSchema as JSON Schema: properties per section, items of lists, bounds, enums. */
function configJsonSchema(): JsonSchema {
  jsonSchema ??= z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
  return jsonSchema;
}

function schemaAt(path: readonly string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = configJsonSchema();
  for (const key of path) node = node === undefined ? undefined : schemaChild(node, key);
  return node;
}

/** A mapping's property, or a list's item schema (key is then an index). */
function schemaChild(schema: JsonSchema, key: string): JsonSchema | undefined {
  const { items, properties } = schema;
  const child = schema.type === 'array' ? items : properties && Object.hasOwn(properties, key) ? properties[key] : undefined;
  return typeof child === 'object' && !Array.isArray(child) ? child : undefined;
}

/** Human words for what a schema accepts: "a positive integer or 'full'", "one of sigmoid, tanh, relu". */
function describe(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(describe).join(' or ');
  if (schema.const !== undefined) return quote(schema.const);
  if (schema.enum) return schema.enum.length === 1 ? quote(schema.enum[0]) : `one of ${schema.enum.join(', ')}`;
  switch (schema.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'true or false';
    case 'string':
      return schema.minLength ? 'a non-empty string' : 'a string';
    case 'integer':
    case 'number':
      return withArticle(numberKind(schema, false));
    case 'array': {
      const item = schemaChild(schema, '0');
      const atLeast = schema.minItems ? `at least ${schema.minItems} ` : '';
      const items =
        item?.type === 'integer' || item?.type === 'number'
          ? numberKind(item, true)
          : item === undefined
            ? 'items'
            : `items, each ${describe(item)}`;
      return `a list of ${atLeast}${items}`;
    }
    case 'object':
      return 'a mapping';
    default:
      return 'a valid value';
  }
}

/** "positive integer", "non-negative number < 1", "number >= 2" (plural: "positive integers"). */
function numberKind(schema: JsonSchema, plural: boolean): string {
  const noun = (schema.type === 'integer' ? 'integer' : 'number') + (plural ? 's' : '');
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema;
  const sign = exclusiveMinimum === 0 ? 'positive ' : minimum === 0 ? 'non-negative ' : '';
  const bounds: string[] = [];
  if (sign === '' && typeof exclusiveMinimum === 'number') bounds.push(`> ${exclusiveMinimum}`);
  // z.int() states the safe-integer range; that is no news to a user.
  if (sign === '' && minimum !== undefined && minimum > Number.MIN_SAFE_INTEGER) bounds.push(`>= ${minimum}`);
  if (typeof exclusiveMaximum === 'number') bounds.push(`< ${exclusiveMaximum}`);
  if (maximum !== undefined && maximum < Number.MAX_SAFE_INTEGER) bounds.push(`<= ${maximum}`);
  return `${sign}${noun}${bounds.length > 0 ? ` ${bounds.join(' and ')}` : ''}`;
}

// ---------------------------------------------------------------- "did you mean"

/**
 * The allowed key the user most likely meant, or undefined when none is close.
 * Close = same key up to case and `_`/`-` (batchSize), its initials
 * (learning_rate ~ lr), one of its words (batch ~ batch_size), or a few typos
 * (Damerau-Levenshtein <= 3 and <= 40% of the longer key).
 */
function closestKey(typed: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const key of allowed) {
    const score = closeness(typed, key);
    if (score < bestScore) [best, bestScore] = [key, score];
  }
  return best;
}

function closeness(typed: string, key: string): number {
  const a = squash(typed);
  const b = squash(key);
  const distance = editDistance(a, b);
  if (distance <= Math.min(3, Math.ceil(0.4 * Math.max(a.length, b.length)))) return distance;
  if (initials(typed) === b || initials(key) === a) return 1;
  if (words(key).includes(a) || words(typed).includes(b)) return 2;
  return Infinity;
}

const squash = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');
const words = (key: string): string[] =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[-_]+/)
    .filter((w) => w !== '');
/** learning_rate -> "lr"; a one-word key has no initials worth matching. */
function initials(key: string): string {
  const parts = words(key);
  return parts.length > 1 ? parts.map((w) => w[0]).join('') : '';
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  // d[i][j] = distance between a[0..i) and b[0..j); row 0 and column 0 are all insertions/deletions.
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

// ---------------------------------------------------------------- small helpers

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ownValue(node: Mapping, key: string): unknown {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** Assign without the `__proto__` setter: a key named __proto__ stays a (rejected) key. */
function setOwn(node: Mapping, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isMapping(node)) node = ownValue(node, key);
    else return undefined;
  }
  return node;
}

/** A found value as the user would recognise it, short: "big", -1, NaN, [784,0,10], a mapping. */
function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return clip(JSON.stringify(value));
  if (Array.isArray(value)) return clip(`[${value.map(formatValue).join(',')}]`);
  if (isMapping(value)) return 'a mapping';
  return String(value);
}

function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

function withArticle(phrase: string): string {
  return /^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}

/** a.b is on the path of a.b.c and vice versa; a.b and a.bc are unrelated. */
function pathsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}
