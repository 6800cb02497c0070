// Config file + --set overrides -> one validated Config, or one ConfigError
// with every problem, each on a line naming the source (file with line and
// column, or --set), the dotted key, and what was expected vs found:
//
//   config.yaml:3:7: training.lr: expected a positive number, got -1
//   config.yaml:2:1: YAML syntax error: Tabs are not allowed as indentation
//   --set: training.learning_rate: unknown key (did you mean training.lr?)
//
// The steps live beside this file: parse.ts (file -> value and places, with
// yaml-tree.ts, json-tree.ts and the limits of tree.ts), set.ts (--set),
// paths.ts (relative paths), validate.ts (schema check and messages, with
// json-schema.ts and suggest.ts), problems.ts (the lines), diff.ts
// (differences from the defaults).
import { dirname, resolve } from 'node:path';
import { isMapping, ownValue, setOwn, type Mapping } from './mapping.js';
import { readConfigFile } from './parse.js';
import { resolvePaths } from './paths.js';
import type { ConfigProblem } from './problems.js';
import type { Config } from './schema.js';
import { readSet, writeAt } from './set.js';
import { asMapping, isPrefix, validate, type Locate } from './validate.js';

export { applySet } from './set.js';
export { configDiff } from './diff.js';

/**
 * Read a JSON or YAML config (by extension .json; anything else: YAML), apply
 * --set overrides in order, validate. file undefined = empty config.
 * `base` (say, the config stored in a weights file) lies under the file: the
 * file's keys replace the base's, section by section; lists are replaced whole.
 * Relative data paths of the file mean its folder, those of --set the working
 * directory; both come out absolute.
 */
export function loadConfig(file: string | undefined, sets: readonly string[] = [], base: Mapping = {}): Config {
  const text = file === undefined ? undefined : readConfigFile(file);
  const fromFile = text === undefined ? {} : (resolvePaths(text.value, [], dirname(resolve(file ?? ''))) as Mapping);
  const raw = mergeMappings(structuredClone(base), fromFile);
  const problems: ConfigProblem[] = [...(text?.problems ?? [])];
  const leftOut: string[][] = [...(text?.leftOut ?? [])];
  const setPaths: string[][] = [];
  for (const assignment of sets) {
    const set = readSet(assignment);
    problems.push(...set.problems);
    leftOut.push(...set.leftOut);
    if (set.path === undefined) continue;
    setPaths.push(set.path);
    if (set.value === undefined) continue;
    const problem = writeAt(raw, set.path, resolvePaths(set.value, set.path, process.cwd()));
    if (problem !== undefined) {
      problems.push(problem);
      leftOut.push(set.path);
    }
  }
  // One validation of the merged result (so `--set loss=cross_entropy --set
  // model.output=softmax` works in either order); a problem is blamed on
  // --set when its key lies on a path some --set wrote.
  const locate: Locate = (path, part) => {
    if (setPaths.some((p) => isPrefix(p, path) || isPrefix(path, p))) return { source: '--set' };
    return text?.where(path, part) ?? { source: file ?? '--set' };
  };
  return validate(raw, locate, problems, leftOut);
}

/** Validate an already-parsed plain object (e.g. config stored in a weights file's metadata). source names where it came from in errors. */
export function parseConfig(raw: unknown, source: string): Config {
  return validate(asMapping(raw, source), () => ({ source }));
}

/** target's keys overwritten by source's, recursing into mappings present in both. */
function mergeMappings(target: Mapping, source: Mapping): Mapping {
  for (const [k, v] of Object.entries(source)) {
    const t = ownValue(target, k);
    setOwn(target, k, isMapping(t) && isMapping(v) ? mergeMappings(t, v) : v);
  }
  return target;
}
