// Pieces shared by the three commands.
import { Command } from 'commander';

/** Commander collector for repeatable options (--set a=1 --set b=2). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** --quiet and --debug on every command; commander errors are returned, not exited (see runCli). */
export function addCommonOptions(program: Command): Command {
  return program
    .option('-q, --quiet', 'only errors and warnings on stderr')
    .option('--debug', 'show stack traces for user errors too')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, WeightsFileError } from '../errors.js';
import { loadWeights, type LoadedWeights } from '../output/weights.js';

/**
 * The config of a command that starts from a weights file (mlp-eval, mlp-grad):
 * the config stored in the file's metadata, then --config, then --set on top.
 * A foreign file (no metadata, saved from PyTorch say) gets its layer widths
 * from the tensor shapes and everything else from the defaults.
 */
export function configForWeights(
  weightsFile: string,
  configFile: string | undefined,
  sets: readonly string[],
): { config: Config; weights: LoadedWeights } {
  const weights = loadWeights(weightsFile);
  const stored = weights.storedConfig;
  let base: Record<string, unknown>;
  if (stored !== null && typeof stored === 'object' && !Array.isArray(stored)) {
    base = stored as Record<string, unknown>;
    const model = base.model as { layers?: unknown } | undefined;
    if (model && JSON.stringify(model.layers) !== JSON.stringify(weights.layers)) {
      throw new WeightsFileError(
        weightsFile,
        `tensor shapes give layers [${weights.layers}] but the metadata says [${String(model.layers)}]`,
      );
    }
  } else {
    base = { model: { layers: weights.layers } };
  }
  const config = loadConfig(configFile, sets, base);
  if (JSON.stringify(config.model.layers) !== JSON.stringify(weights.layers)) {
    throw new ConfigError(
      configFile ?? '--set',
      'model.layers',
      `[${config.model.layers}] does not match the weights file ${weightsFile}, whose tensors are [${weights.layers}]`,
    );
  }
  return { config, weights };
}
