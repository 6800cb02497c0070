// Config file + --set overrides -> one validated Config, and every mistake
// explained in one line naming the source (file or --set), the dotted key,
// and what was expected vs found:
//
//   config.yaml: training.lr: expected a positive number, got -1
//   config.yaml: YAML syntax error at line 3, column 1: Tabs are not allowed as indentation
//   --set: training.learning_rate: unknown key (did you mean training.lr?)
//
// The steps live beside this file: parse.ts (text -> value), set.ts (--set),
// validate.ts (schema check and messages, with json-schema.ts and suggest.ts),
// diff.ts (differences from the defaults).
import { isMapping, ownValue, setOwn, type Mapping } from './mapping.js';
import { readConfigFile } from './parse.js';
import type { Config } from './schema.js';
import { applySet, parseAssignment } from './set.js';
import { asMapping, validate } from './validate.js';

export { applySet } from './set.js';
export { configDiff } from './diff.js';

/**
 * Read a JSON or YAML config (by extension .json/.yaml/.yml; anything else: try YAML),
 * apply --set overrides in order, validate. file undefined = empty config.
 * `base` (say, the config stored in a weights file) lies under the file: the
 * file's keys replace the base's, section by section; lists are replaced whole.
 */
export function loadConfig(file: string | undefined, sets: readonly string[] = [], base: Mapping = {}): Config {
  const raw = mergeMappings(structuredClone(base), file === undefined ? {} : asMapping(readConfigFile(file), file));
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

/** Validate an already-parsed plain object (e.g. config stored in a weights file's metadata). source names where it came from in errors. */
export function parseConfig(raw: unknown, source: string): Config {
  return validate(asMapping(raw, source), () => source);
}

/** target's keys overwritten by source's, recursing into mappings present in both. */
function mergeMappings(target: Mapping, source: Mapping): Mapping {
  for (const [k, v] of Object.entries(source)) {
    const t = ownValue(target, k);
    setOwn(target, k, isMapping(t) && isMapping(v) ? mergeMappings(t, v) : v);
  }
  return target;
}

/** a.b is on the path of a.b.c and vice versa; a.b and a.bc are unrelated. */
function pathsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}
