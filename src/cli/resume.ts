// --resume: what a run folder holds to continue from, the config it continues
// with, and the checkpoint's tensors put into a new trainer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../config/load.js';
import { configDiff } from '../config/diff.js';
import type { Config } from '../config/schema.js';
import { ConfigError, UserError, WeightsFileError } from '../errors.js';
import { copyOptimizerState } from '../model/optimizer.js';
import { loadCheckpoint, type Checkpoint } from '../output/checkpoint.js';
import { CHECKPOINT_FILE } from '../output/run-dir.js';
import type { Trainer } from '../train/trainer.js';

/** Keys a resumed run may change: how long it runs and where its files go; anything else would make it another run. */
const RESUMABLE_CHANGES = /^(training\.epochs|output\..*)$/;

export interface OpenCheckpoint {
  dir: string;
  file: string; // the checkpoint, or config.json for a run stopped before its first checkpoint
  storedConfig: unknown;
  ck: Checkpoint | null;
}

/**
 * What a run folder holds to resume from: its checkpoint or, if it was killed
 * before the first one was written, its config.json (the run starts over).
 */
export function openCheckpoint(dir: string): OpenCheckpoint {
  const file = join(dir, CHECKPOINT_FILE);
  if (existsSync(file)) {
    const ck = loadCheckpoint(file);
    return { dir, file, storedConfig: ck.config, ck };
  }
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UserError(`${dir}: no ${CHECKPOINT_FILE} or config.json to resume from`);
  let storedConfig: unknown;
  try {
    storedConfig = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(configFile, '', `cannot read the run's config: ${(err as Error).message}`);
  }
  return { dir, file: configFile, storedConfig, ck: null };
}

/**
 * The config of a resumed run: the checkpoint's, with --config/--set applied
 * on top; refused if anything but training.epochs or output.* changed.
 */
export function resumeConfig({ dir, file, storedConfig, ck }: OpenCheckpoint, configFile: string | undefined, set: string[]): Config {
  const stored = parseConfig(storedConfig, `${file} (stored config)`);
  const config = configFile !== undefined ? loadConfig(configFile, set) : loadConfig(undefined, set, stored);
  config.output.dir = dir;
  const changed = configDiff(config, stored).filter((d) => !RESUMABLE_CHANGES.test(d.key));
  if (changed.length > 0) {
    const list = changed.map((d) => `${d.key} ${JSON.stringify(d.default)} -> ${JSON.stringify(d.value)}`).join(', ');
    throw new ConfigError(configFile ?? '--set', '', `cannot resume ${dir} with a changed config: ${list} (only training.epochs and output.* may change)`);
  }
  if (ck && ck.state.epochsDone > config.training.epochs) {
    throw new ConfigError(configFile ?? '--set', 'training.epochs', `${config.training.epochs} is fewer than the ${ck.state.epochsDone} epochs ${dir} has done`);
  }
  return config;
}

/** Put a checkpoint into a trainer built from the checkpoint's config. */
export function restoreCheckpoint(file: string, ck: Checkpoint, trainer: Trainer): void {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const P = trainer.model.params.length;
  if (ck.params.length !== P) fail(`tensor params: ${ck.params.length} values, but the network of its config has ${P}`);
  if ((ck.bestParams === null) !== (trainer.bestParams === null)) {
    fail(ck.bestParams ? 'has best_params but the config has no validation split' : 'missing tensor best_params');
  }
  if (ck.optimizer.name !== trainer.optimizer.name) fail(`optimizer ${ck.optimizer.name}, but its config trains with ${trainer.optimizer.name}`);
  trainer.model.params.set(ck.params);
  copyOptimizerState(trainer.optimizerState, ck.optimizer.state);
  if (ck.bestParams && trainer.bestParams) trainer.bestParams.set(ck.bestParams);
  try {
    trainer.restore(ck.state);
  } catch (err) {
    fail(`metadata state: ${(err as Error).message}`);
  }
}
