// checkpoint.safetensors: everything a run needs to continue bit for bit.
//
//   tensors   params [P]              the flat parameter buffer (layout of src/model/mlp.ts)
//             velocity [P]            the optimizer's momentum buffer
//             best_params [P]         the best validation epoch's copy (runs with a validation split)
//   metadata  format, format_version  "mlp-mnist-checkpoint", "1"
//             config                  the resolved config (JSON)
//             state                   TrainState (JSON): position (epochs and batches done), the
//                                     shuffle RNG state, the running sums of the unfinished epoch,
//                                     the best epoch, and the metrics of every finished epoch
//
// Float32 tensors are stored as they are and JSON numbers round-trip exactly,
// so a restored run is the same run. Written atomically, like every output.
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { WeightsFileError } from '../errors.js';
import type { Trainer, TrainState } from '../train/trainer.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'mlp-mnist-checkpoint';
export const CHECKPOINT_VERSION = '1';

const u32 = z.number().int().min(0).max(0xffffffff);
const count = z.number().int().nonnegative();
const real = z.number();
const maybeReal = z.number().nullable();

const MetricsRow = z.strictObject({
  epoch: z.number().int().positive(), lr: real,
  loss: real, loss_data: real, loss_discriminative: real, loss_l2: real, tr_sw: maybeReal, tr_sb: maybeReal,
  train_accuracy: real, val_loss: maybeReal, val_accuracy: maybeReal,
  seconds: real, eval_seconds: real, gflops: real,
});

const StateSchema = z.strictObject({
  epochsDone: count,
  batchesDone: count,
  rng: z.tuple([u32, u32, u32, u32]),
  sums: z.strictObject({
    data: real, discriminative: real, l2: real, trSw: real, trSb: real,
    seen: count, correct: count, batches: count, seconds: real,
  }),
  best: z.strictObject({ epoch: z.number().int().positive(), val_accuracy: real }).nullable(),
  metrics: z.array(MetricsRow),
});

export interface Checkpoint {
  config: unknown; // as stored: validate with the config schema before use
  state: TrainState;
  params: Float32Array;
  velocity: Float32Array;
  bestParams: Float32Array | null;
}

export function saveCheckpoint(file: string, trainer: Trainer, config: Config): void {
  const P = trainer.model.params.length;
  const tensors: Array<[string, { shape: number[]; data: Float32Array | Float64Array }]> = [
    ['params', { shape: [P], data: trainer.model.params }],
    ['velocity', { shape: [P], data: trainer.optimizer.velocity }],
  ];
  if (trainer.bestParams) tensors.push(['best_params', { shape: [P], data: trainer.bestParams }]);
  writeSafetensors(file, tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    config: JSON.stringify(config),
    state: JSON.stringify(trainer.state()),
  });
}

export function loadCheckpoint(file: string): Checkpoint {
  const { tensors, metadata } = readSafetensors(file);
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  if (metadata.format !== CHECKPOINT_FORMAT) {
    fail(`not a checkpoint: metadata format is ${JSON.stringify(metadata.format ?? null)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  if (metadata.format_version !== CHECKPOINT_VERSION) {
    fail(`checkpoint format version ${JSON.stringify(metadata.format_version ?? null)} is not supported (expected ${CHECKPOINT_VERSION})`);
  }
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) fail(`metadata ${key} is missing`);
    try {
      return JSON.parse(metadata[key]);
    } catch (err) {
      return fail(`metadata ${key} is not valid JSON (${(err as Error).message})`);
    }
  };
  const config = json('config');
  const parsed = StateSchema.safeParse(json('state'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`metadata state: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const state: TrainState = parsed.data;
  if (state.metrics.length !== state.epochsDone) {
    fail(`metadata state: ${state.metrics.length} metrics rows for ${state.epochsDone} finished epochs`);
  }
  const vector = (name: string): Tensor => {
    const t = tensors.get(name) ?? fail(`missing tensor ${name}`);
    if (t.shape.length !== 1) fail(`tensor ${name}: expected 1 dimension, found [${t.shape}]`);
    return t;
  };
  const params = vector('params');
  const velocity = vector('velocity');
  if (velocity.data.length !== params.data.length) {
    fail(`tensor velocity: ${velocity.data.length} values, but params has ${params.data.length}`);
  }
  const best = tensors.has('best_params') ? vector('best_params') : null;
  if (best && best.data.length !== params.data.length) {
    fail(`tensor best_params: ${best.data.length} values, but params has ${params.data.length}`);
  }
  return { config, state, params: params.data, velocity: velocity.data, bestParams: best?.data ?? null };
}

/** Put a checkpoint into a trainer built from the checkpoint's config. */
export function restoreCheckpoint(file: string, ck: Checkpoint, trainer: Trainer): void {
  const P = trainer.model.params.length;
  if (ck.params.length !== P) {
    throw new WeightsFileError(file, `tensor params: ${ck.params.length} values, but the network of its config has ${P}`);
  }
  if ((ck.bestParams === null) !== (trainer.bestParams === null)) {
    throw new WeightsFileError(file, ck.bestParams ? 'has best_params but the config has no validation split' : 'missing tensor best_params');
  }
  trainer.model.params.set(ck.params);
  trainer.optimizer.velocity.set(ck.velocity);
  if (ck.bestParams && trainer.bestParams) trainer.bestParams.set(ck.bestParams);
  try {
    trainer.restore(ck.state);
  } catch (err) {
    throw new WeightsFileError(file, `metadata state: ${(err as Error).message}`);
  }
}
