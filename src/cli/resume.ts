// --resume: what a run folder holds to continue from, the config it continues
// with, and the checkpoint's tensors put into a new trainer. A checkpoint must
// prove it is this folder's: its config agrees with the folder's config.json
// (but for training.epochs and output.*), its run id with the folder's marker,
// and the training data with the fingerprint it recorded.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../config/load.js';
import { configDiff } from '../config/diff.js';
import type { Config } from '../config/schema.js';
import { ConfigError, OutputError, UserError, WeightsFileError } from '../errors.js';
import { copyOptimizerScalars, copyOptimizerState } from '../model/optimizer.js';
import { describe } from '../output/atomic.js';
import { loadCheckpoint, type Checkpoint } from '../output/checkpoint.js';
import { CHECKPOINT_FILE, MARKER_FILE, readMarker } from '../output/run-files.js';
import { describeData, sameData, type DataFingerprint } from '../train/fingerprint.js';
import type { Trainer } from '../train/trainer.js';

/** Keys a resumed run may change: how long it runs, its threads (results are bit-identical for any count) and where its files go; anything else would make it another run. */
const RESUMABLE_CHANGES = /^(training\.epochs|training\.threads|output\..*)$/;

export interface OpenCheckpoint {
  dir: string;
  file: string; // the checkpoint, or config.json for a run stopped before its first checkpoint
  storedConfig: unknown;
  ck: Checkpoint | null;
}

/**
 * What a run folder holds to resume from: its checkpoint or, if it was killed
 * before the first one was written, its config.json (the run starts over).
 * A checkpoint that is not this folder's run is refused.
 */
export function openCheckpoint(dir: string): OpenCheckpoint {
  const file = join(dir, CHECKPOINT_FILE);
  const configFile = join(dir, 'config.json');
  const folderConfig = exists(dir, configFile) ? readRunConfig(configFile) : null;
  if (exists(dir, file)) {
    const ck = loadCheckpoint(file);
    if (folderConfig !== null) checkSameRun(dir, file, ck, configFile, folderConfig);
    return { dir, file, storedConfig: ck.config, ck };
  }
  if (folderConfig === null) throw new UserError(`${dir}: no ${CHECKPOINT_FILE} or config.json to resume from`);
  return { dir, file: configFile, storedConfig: folderConfig, ck: null };
}

/** Whether `file` in run folder `dir` exists; a folder that cannot be read is one line. */
function exists(dir: string, file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') throw new UserError(`${dir}: not a folder`);
    throw new OutputError(dir, `cannot read the run folder: ${describe(err)}`);
  }
}

function readRunConfig(configFile: string): unknown {
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (err) {
    throw new ConfigError(configFile, '', `cannot read the run's config: ${describe(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(configFile, '', `cannot read the run's config: ${(err as Error).message}`);
  }
}

/**
 * The checkpoint belongs to the folder's run: the same config as config.json
 * (a checkpoint copied in from another run has another), and, when both carry
 * one, the same run id as the folder's marker (a run with the same config).
 */
function checkSameRun(dir: string, file: string, ck: Checkpoint, configFile: string, folderConfig: unknown): void {
  const mine = parseConfig(folderConfig, configFile);
  const theirs = parseConfig(ck.config, `${file} (stored config)`);
  const differ = configDiff(theirs, mine).filter((d) => !RESUMABLE_CHANGES.test(d.key));
  if (differ.length > 0) {
    const list = differ.slice(0, 3).map((d) => `${d.key} ${JSON.stringify(d.value)} (config.json: ${JSON.stringify(d.default)})`).join(', ');
    throw new WeightsFileError(file, `not this run's checkpoint: its config differs from ${configFile}: ${list}; refusing to resume ${dir} with it`);
  }
  const marker = readMarker(dir);
  if (marker !== null && ck.runId && ck.runId !== marker.id) {
    throw new WeightsFileError(file, `not this run's checkpoint: written by run ${ck.runId}, but ${join(dir, MARKER_FILE)} names run ${marker.id}; refusing to resume ${dir} with it`);
  }
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
    throw new ConfigError(configFile ?? '--set', '', `cannot resume ${dir} with a changed config: ${list} (only training.epochs, training.threads and output.* may change)`);
  }
  if (ck && ck.state.epochsDone > config.training.epochs) {
    throw new ConfigError(configFile ?? '--set', 'training.epochs', `${config.training.epochs} is fewer than the ${ck.state.epochsDone} epochs ${dir} has done`);
  }
  return config;
}

/**
 * Put a checkpoint into a trainer built from the checkpoint's config, after
 * checking it against the trainer and the data it trains on (`data`, the
 * fingerprint of the data loaded now). Returns warnings for the log.
 */
export function restoreCheckpoint(file: string, ck: Checkpoint, trainer: Trainer, data?: DataFingerprint): string[] {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const warnings: string[] = [];
  const P = trainer.model.params.length;
  if (ck.params.length !== P) fail(`tensor params: ${ck.params.length} values, but the network of its config has ${P}`);
  if ((ck.bestParams === null) !== (trainer.bestParams === null)) {
    fail(ck.bestParams ? 'has best_params but the config has no validation split' : 'missing tensor best_params');
  }
  if (ck.optimizer.name !== trainer.optimizer.name) fail(`optimizer ${ck.optimizer.name}, but its config trains with ${trainer.optimizer.name}`);
  const { sums, batchesDone } = ck.state;
  if (sums.seen > batchesDone * trainer.batchSize) {
    fail(`metadata state: sums.seen is ${sums.seen}, more than ${batchesDone} batches of ${trainer.batchSize} hold`);
  }
  if (data !== undefined) {
    if (!ck.data) {
      warnings.push(`${file} records no fingerprint of its training data (written before they were recorded): the data is not checked`);
    } else if (!sameData(ck.data, data)) {
      fail(`the training data changed: the run trained on ${describeData(ck.data)}, the data files now give ${describeData(data)}; put the original files back or start a new run`);
    }
  }
  trainer.model.params.set(ck.params);
  copyOptimizerState(trainer.optimizerState, ck.optimizer.state);
  copyOptimizerScalars(trainer.optimizerScalars, ck.optimizer.scalars);
  if (ck.bestParams && trainer.bestParams) trainer.bestParams.set(ck.bestParams);
  try {
    trainer.restore(ck.state);
  } catch (err) {
    fail(`metadata state: ${(err as Error).message}`);
  }
  return warnings;
}
