// A config file -> its plain value and a way to place any key of it, or every
// problem found on the way, each with its line and column. Read through the
// shared bounded reader (a pipe or /dev/zero cannot grow without bound), by
// extension as JSON (.json) or YAML (anything else), within the limits of
// tree.ts.
import { extname } from 'node:path';
import { ConfigError } from '../errors.js';
import { readInputFile } from '../read-file.js';
import { readJsonTree } from './json-tree.js';
import { formatValue, isMapping, type Mapping } from './mapping.js';
import { ConfigProblems, type ConfigProblem, type Where } from './problems.js';
import { LineIndex, MAX_CONFIG_BYTES, type Tree, type TreeProblem } from './tree.js';
import { notSectionsProblem } from './validate.js';
import { readYamlTree } from './yaml-tree.js';

export interface ConfigText {
  value: Mapping;
  /** Problems that did not stop the reading (a refused tag, a duplicate key); the rest is still validated. */
  problems: ConfigProblem[];
  /** Paths whose value was left out for one of those problems. */
  leftOut: string[][];
  /** The file and the line:column of a key (part 'key') or its value, when it is in the text. */
  where(path: readonly string[], part: 'key' | 'value'): Where;
}

/** Read and parse a config file; throws ConfigProblems when nothing can be validated. */
export function readConfigFile(file: string): ConfigText {
  // A NUL byte is in no text: /dev/zero or a binary file is refused from its first chunk.
  const notText = (bytes: Uint8Array): void => {
    const nul = bytes.indexOf(0);
    if (nul >= 0) throw new ConfigError(file, '', `not text (a NUL byte at offset ${nul}), expected a YAML or JSON config`);
  };
  const bytes = readInputFile(file, 'a config file', MAX_CONFIG_BYTES, (f, problem) => new ConfigError(f, '', problem), notText);
  notText(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops a BOM
  } catch {
    throw new ConfigError(file, '', 'not UTF-8 text, expected a YAML or JSON config');
  }
  const lines = new LineIndex(text);
  const json = extname(file).toLowerCase() === '.json';
  const tree = json ? readJsonTree(text, lines) : readYamlTree(text, lines);
  const where = (offset: number | undefined): Where => (offset === undefined ? { source: file } : { source: file, ...lines.at(offset) });
  const problems = tree.problems.map((p) => toProblem(p, where(p.offset)));
  if (tree.fatal) throw new ConfigProblems(problems);
  if (tree.value !== null && !isMapping(tree.value)) {
    throw new ConfigProblems([{ ...where(tree.places.get([], 'value')), keyPath: '', problem: notSectionsProblem(tree.value) }]);
  }
  return {
    value: tree.value ?? {},
    problems,
    leftOut: leftOutPaths(tree),
    where: (path, part) => where(tree.places.get(path, part)),
  };
}

/** A --set value: YAML, with the same refusals as a file's; problems name --set and the dotted key. */
export function readSetValue(valueText: string, path: readonly string[]): { value: unknown; problems: ConfigProblem[]; leftOut: string[][] } {
  const tree = readYamlTree(valueText, new LineIndex(valueText));
  if (tree.fatal) {
    // a syntax error or a limit: the value as a whole cannot be read; the first reason is enough
    const reason = tree.problems[0].problem.replace(/^YAML syntax error: /, '');
    const problem = `cannot read value ${formatValue(valueText)}: ${reason}`;
    return { value: undefined, problems: [{ source: '--set', keyPath: path.join('.'), problem }], leftOut: [[...path]] };
  }
  const problems = tree.problems.map((p): ConfigProblem => ({ source: '--set', keyPath: [...path, ...p.path].join('.'), problem: p.problem }));
  return { value: tree.value, problems, leftOut: leftOutPaths(tree).map((p) => [...path, ...p]) };
}

function toProblem(p: TreeProblem, where: Where): ConfigProblem {
  return { ...where, keyPath: p.path.join('.'), problem: p.problem };
}

function leftOutPaths(tree: Tree): string[][] {
  return tree.problems.filter((p) => p.leftOut === true).map((p) => p.path);
}
