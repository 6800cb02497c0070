// --set overrides: "a.b.c=value" written into a plain config object, the
// value read as YAML (with a config file's refusals: no !!omap, no alias bombs).
import { ConfigError } from '../errors.js';
import { formatValue, isMapping, ownValue, setOwn, type Mapping } from './mapping.js';
import { readSetValue } from './parse.js';
import { ConfigProblems, type ConfigProblem } from './problems.js';

/** One override read: its path and value (undefined when it cannot be read), the problems found, the paths left out for them. */
export interface SetRead {
  path: string[] | undefined; // undefined: not key.path=value at all
  value: unknown;
  problems: ConfigProblem[];
  leftOut: string[][];
}

export function readSet(assignment: string): SetRead {
  let parsed: { path: string[]; valueText: string };
  try {
    parsed = parseAssignment(assignment);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { path: undefined, value: undefined, problems: [{ source: '--set', keyPath: err.keyPath, problem: err.problem }], leftOut: [] };
  }
  return { path: parsed.path, ...readSetValue(parsed.valueText, parsed.path) };
}

/** Write value at path, starting missing (or empty) sections; a problem when a section on the way is not a mapping. */
export function writeAt(raw: Mapping, path: readonly string[], value: unknown): ConfigProblem | undefined {
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
      return { source: '--set', keyPath: path.join('.'), problem: `${prefix} is ${formatValue(next)}, not a mapping` };
    }
  }
  setOwn(node, path[path.length - 1], value);
  return undefined;
}

/** Apply one "a.b.c=value" override onto a plain object (mutates/returns it); value read as YAML (numbers, booleans, null, flow lists like [784,100,10], plain strings). Errors -> ConfigError naming --set. */
export function applySet(raw: Mapping, assignment: string): Mapping {
  const set = readSet(assignment);
  const problems = [...set.problems];
  if (set.path !== undefined && set.value !== undefined) {
    const problem = writeAt(raw, set.path, set.value);
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigProblems(problems);
  return raw;
}

/** "a.b.c=value" -> path and value text. */
export function parseAssignment(assignment: string): { path: string[]; valueText: string } {
  const eq = assignment.indexOf('=');
  const path = assignment.slice(0, Math.max(eq, 0)).trim().split('.');
  if (eq < 0 || path.some((key) => key === '')) {
    throw new ConfigError('--set', assignment, 'expected key.path=value');
  }
  return { path, valueText: assignment.slice(eq + 1) };
}
