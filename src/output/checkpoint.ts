// checkpoint.safetensors: everything a run needs to continue bit for bit.
//
//   tensors   params [P]              the flat parameter buffer (layout of src/model/mlp.ts)
//             <state> [P]             each of the optimizer's state tensors, by its name
//                                     (src/model/optimizer.ts: sgd's is velocity)
//             best_params [P]         the best validation epoch's copy (runs with a validation split)
//   metadata  format, format_version  "mlp-mnist-checkpoint", "1"
//             optimizer               its name (absent in older files: sgd)
//             config                  the resolved config (JSON)
//             state                   TrainState (JSON, src/train/state.ts): position (epochs and
//                                     batches done), the shuffle RNG state, the running sums of the
//                                     unfinished epoch, the best epoch, and the metrics of every
//                                     finished epoch
//
// Float32 tensors are stored as they are and JSON numbers round-trip exactly,
// so a restored run is the same run. Written atomically, like every output.
import type { Config } from '../config/schema.js';
import { WeightsFileError } from '../errors.js';
import type { Vec } from '../kernels/matmul.js';
import { OPTIMIZER_STATE, type OptimizerName } from '../model/optimizer.js';
import { TrainStateSchema, type TrainState } from '../train/state.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'mlp-mnist-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** A checkpoint's content, as plain data. */
export interface Checkpoint<P extends Vec = Float32Array> {
  config: unknown; // as stored: validate with the config schema before use
  state: TrainState;
  params: P;
  optimizer: { name: OptimizerName; state: Readonly<Record<string, P>> };
  bestParams: P | null;
}

export function saveCheckpoint(file: string, ck: Checkpoint<Vec> & { config: Config }): void {
  const P = ck.params.length;
  const tensors: Array<[string, { shape: number[]; data: Vec }]> = [['params', { shape: [P], data: ck.params }]];
  for (const name of OPTIMIZER_STATE[ck.optimizer.name]) tensors.push([name, { shape: [P], data: ck.optimizer.state[name] }]);
  if (ck.bestParams) tensors.push(['best_params', { shape: [P], data: ck.bestParams }]);
  writeSafetensors(file, tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    optimizer: ck.optimizer.name,
    config: JSON.stringify(ck.config),
    state: JSON.stringify(ck.state),
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
  const parsed = TrainStateSchema.safeParse(json('state'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`metadata state: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const state: TrainState = parsed.data;
  if (state.metrics.length !== state.epochsDone) {
    fail(`metadata state: ${state.metrics.length} metrics rows for ${state.epochsDone} finished epochs`);
  }
  const name = metadata.optimizer ?? 'sgd';
  if (!Object.hasOwn(OPTIMIZER_STATE, name)) {
    fail(`metadata optimizer ${JSON.stringify(name)} is not one of ${Object.keys(OPTIMIZER_STATE).join(', ')}`);
  }
  const vector = (tensor: string): Tensor => {
    const t = tensors.get(tensor) ?? fail(`missing tensor ${tensor}`);
    if (t.shape.length !== 1) fail(`tensor ${tensor}: expected 1 dimension, found [${t.shape}]`);
    return t;
  };
  const params = vector('params');
  const sameLength = (tensor: string): Float32Array => {
    const t = vector(tensor);
    if (t.data.length !== params.data.length) fail(`tensor ${tensor}: ${t.data.length} values, but params has ${params.data.length}`);
    return t.data;
  };
  const optimizerState = Object.fromEntries(OPTIMIZER_STATE[name as OptimizerName].map((s) => [s, sameLength(s)]));
  const bestParams = tensors.has('best_params') ? sameLength('best_params') : null;
  return { config, state, params: params.data, optimizer: { name: name as OptimizerName, state: optimizerState }, bestParams };
}
