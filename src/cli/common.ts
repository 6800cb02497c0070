// What every command shares: the common options and the flag conventions
// (--version everywhere; --json only ever a switch for JSON on stdout), and
// the config of a command that starts from a weights file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { clipLines, writeLog, writeResult } from './output.js';

/** Commander collector for repeatable options (--set a=1 --set b=2). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** package.json's version: the nearest package.json above this file (src/cli/ when tested, dist/src/cli/ when built). */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * --version, --quiet and --debug on every command; help and version go to
 * stdout, commander's errors to stderr (clipped), both through src/cli/output.ts.
 * Commander errors are returned, not exited (see runCli). Call it after the
 * command's own options: it checks the one meaning of --json.
 */
export function addCommonOptions(program: Command): Command {
  const json = program.options.find((o) => o.long === '--json');
  if (json && (json.required || json.optional)) throw new Error(`${program.name()}: --json prints JSON on stdout and takes no value`);
  return program
    .version(`mlp-mnist ${packageVersion()}`, '--version', 'print "mlp-mnist <version>" and exit')
    .option('-q, --quiet', 'no logs on stderr but warnings and errors (results on stdout are never hidden)')
    .option('--debug', 'show stack traces for user errors too')
    .configureOutput({ writeOut: writeResult, writeErr: (text) => writeLog(clipLines(text)) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

import { loadConfig, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, WeightsFileError } from '../errors.js';
import { hiddenPieces, shapePieces } from '../model/shape.js';
import { loadWeights, piecesProblem, type LoadedWeights } from '../output/weights.js';

/** Model keys used only to initialize a model; every other model key changes what saved weights compute. */
const INIT_ONLY_KEYS = new Set(['init', 'output_bias', 'seed']);

/**
 * The config of a command that starts from a weights file (mlp-eval, mlp-grad,
 * mlp-predict, mlp-export): the config stored in the file's metadata, then
 * --config, then --set on top. The model is the weights' own: an override
 * that would change it (model.hidden=relu on weights trained with sigmoid) is
 * refused, naming the key; a problem in the stored config names the weights file.
 * A foreign file (no metadata, saved from PyTorch say) gets its layer widths
 * from the tensor shapes and the rest from --config/--set or the defaults.
 */
export function configForWeights(
  weightsFile: string,
  configFile: string | undefined,
  sets: readonly string[],
): { config: Config; weights: LoadedWeights } {
  const weights = loadWeights(weightsFile);
  const stored = weights.storedConfig;
  if (stored === null) {
    const maxout = weights.pieces > 1 ? { hidden: 'maxout', maxout_pieces: weights.pieces } : {}; // the only units with such shapes
    const config = loadConfig(configFile, sets, { model: { layers: weights.layers, ...maxout } });
    if (JSON.stringify(config.model.layers) !== JSON.stringify(weights.layers)) {
      throw new ConfigError(
        configFile ?? '--set',
        'model.layers',
        `[${config.model.layers}] does not match the weights file ${weightsFile}, whose tensors are [${weights.layers}]`,
      );
    }
    if (!piecesMatch(config, weights)) {
      const key = config.model.hidden === 'maxout' && weights.pieces > 1 ? 'model.maxout_pieces' : 'model.hidden';
      throw new ConfigError(configFile ?? '--set', key, `${piecesProblem(config.model, weights.layers, weights.pieces)} (weights file ${weightsFile})`);
    }
    return { config, weights };
  }

  const own = storedConfig(weightsFile, stored);
  if (JSON.stringify(own.model.layers) !== JSON.stringify(weights.layers)) {
    throw new WeightsFileError(weightsFile, `tensor shapes give layers [${weights.layers}] but the metadata says [${own.model.layers}]`);
  }
  if (!piecesMatch(own, weights)) throw new WeightsFileError(weightsFile, `${piecesProblem(own.model, weights.layers, weights.pieces)} as the metadata says`);
  const config = loadConfig(configFile, sets, stored as Record<string, unknown>);
  const changed = modelChanges(own, config);
  if (changed.length > 0) {
    const key = changed[0];
    const byFile = configFile !== undefined && modelChanges(own, loadConfig(configFile, [], stored as Record<string, unknown>)).includes(key);
    throw new ConfigError(
      byFile ? configFile : '--set',
      `model.${key}`,
      `the weights file ${weightsFile} was trained with ${show(own.model, key)}, not ${show(config.model, key)}; ` +
        `saved weights keep their model (drop this override)`,
    );
  }
  config.model = own.model; // the init-only keys too: the weights' own record
  return { config, weights };
}

/** The config's hidden units have the pre-activations per unit (maxout pieces) that the tensor shapes give. */
function piecesMatch(config: Config, weights: LoadedWeights): boolean {
  return shapePieces(weights.layers, hiddenPieces(config.model)) === weights.pieces;
}

/** The config stored in a weights file, validated on its own: a problem in it is the file's. */
function storedConfig(weightsFile: string, stored: unknown): Config {
  try {
    return parseConfig(stored, weightsFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new WeightsFileError(weightsFile, `metadata config: ${err.keyPath ? `${err.keyPath}: ` : ''}${err.problem}`);
  }
}

/** The model keys (but the init-only ones) whose values differ. */
function modelChanges(a: Config, b: Config): string[] {
  const keys = new Set([...Object.keys(a.model), ...Object.keys(b.model)]);
  return [...keys].filter((k) => !INIT_ONLY_KEYS.has(k) && show(a.model, k) !== show(b.model, k));
}

function show(model: Config['model'], key: string): string {
  const v = (model as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : JSON.stringify(v);
}
