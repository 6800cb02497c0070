// Every problem of a config, each as one line in the compiler's shape, all of
// them in one ConfigError:
//
//   config.yaml:3:7: training.lr: expected a positive number, got -1
//   config.yaml:5:3: training.ephocs: unknown key (did you mean training.epochs?)
//   --set: model.hidden: expected one of sigmoid, tanh, relu, got "gelu"
//
// A file's problems carry `line:column` when the file has a place for them;
// --set and stored configs have none.
import { ConfigError } from '../errors.js';

export interface ConfigProblem {
  source: string; // the config file, "--set", or a stored config
  line?: number; // 1-based, in source
  col?: number; // 1-based, in UTF-16 units as editors count
  keyPath: string; // dotted; '' = the config as a whole
  problem: string;
}

/** Where a problem lies, as the source's reader knows it. */
export type Where = Pick<ConfigProblem, 'source' | 'line' | 'col'>;

/** At most this many lines; a config with more problems is not worth reading line by line. */
export const MAX_SHOWN_PROBLEMS = 20;

/** All the problems of one config. source, keyPath and problem are those of the first. */
export class ConfigProblems extends ConfigError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0];
    super(first.source, first.keyPath, first.problem);
    this.problems = sorted;
    this.message = formatProblems(sorted);
  }
}

/** One problem: `file:line:col: key.path: problem`, each part there when known. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}:${p.col ?? 1}`;
  return p.keyPath === '' ? `${where}: ${clip(p.problem, 300)}` : `${where}: ${clip(p.keyPath, 100)}: ${clip(p.problem, 300)}`;
}

/**
 * One problem is one line, as every user error; several get a count first and
 * one indented line each, so that after the CLI's "error: " they read as a list.
 */
function formatProblems(problems: readonly ConfigProblem[]): string {
  if (problems.length === 1) return formatProblem(problems[0]);
  const shown = problems.slice(0, MAX_SHOWN_PROBLEMS).map((p) => `  ${formatProblem(p)}`);
  const hidden = problems.length - shown.length;
  if (hidden > 0) shown.push(`  ... and ${hidden} more`);
  return [`${problems.length} problems in the config:`, ...shown].join('\n');
}

/** A file's problems in file order (placeless ones after them), then --set's: those that could not be applied, then the schema's. */
function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem): number => (p.source === '--set' ? 2 : p.line === undefined ? 1 : 0);
  return [...problems].sort(
    (a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0),
  );
}

/** Keys and messages can be as long as the file; a line stays readable. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
