// checkpoint.safetensors: everything a run needs to continue bit for bit.
//
//   tensors   params [P]              the flat parameter buffer (layout of src/model/mlp.ts)
//             <state> [P]             each of the optimizer's state tensors, by its name
//                                     (OPTIMIZER_STATE of src/model/optimizer.ts: sgd's is velocity)
//             best_params [P]         the best validation epoch's copy (runs with a validation split)
//   metadata  format, format_version  "mlp-mnist-checkpoint", "1"
//             optimizer               its name (absent in older files: sgd)
//             optimizer_scalars       the optimizer's state scalars by name (JSON; only for an
//                                     optimizer that has some: rprop's prev_loss)
//             config                  the resolved config (JSON)
//             run_id                  the id in the run folder's marker (src/output/run-dir.ts): whose checkpoint
//             data                    the training data's fingerprint (JSON, src/train/fingerprint.ts)
//             state                   TrainState (JSON, src/train/state.ts): position (epochs and
//                                     batches done), the shuffle RNG state, the running sums of the
//                                     unfinished epoch, the best epoch, and the metrics of every
//                                     finished epoch
//
// Float32 tensors are stored as they are and JSON numbers round-trip exactly,
// so a restored run is the same run. Written atomically, like every output.
// Reading checks the state for consistency too (the running sums against the
// position, the metrics rows against the epochs done): a tampered state would
// otherwise train on into NaN metrics. run_id and data are absent in
// checkpoints written before they were recorded (then null).
import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import { WeightsFileError } from '../errors.js';
import type { Vec } from '../kernels/matmul.js';
import { OPTIMIZER_SCALARS, OPTIMIZER_STATE, type OptimizerName } from '../model/optimizer.js';
import { DataFingerprintSchema, type DataFingerprint } from '../train/fingerprint.js';
import { TrainStateSchema, type TrainState } from '../train/state.js';
import { readSafetensors, writeSafetensors, type Tensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'mlp-mnist-checkpoint';
export const CHECKPOINT_VERSION = '1';

/** A checkpoint's content, as plain data. */
export interface Checkpoint<P extends Vec = Float32Array> {
  config: unknown; // as stored: validate with the config schema before use
  state: TrainState;
  params: P;
  optimizer: { name: OptimizerName; state: Readonly<Record<string, P>>; scalars: Readonly<Record<string, number>> };
  bestParams: P | null;
  /** The run folder's id (null: not recorded). */
  runId?: string | null;
  /** What the run trains on (null: not recorded). */
  data?: DataFingerprint | null;
}

export function saveCheckpoint(file: string, ck: Checkpoint<Vec> & { config: Config }): void {
  const P = ck.params.length;
  const tensors: Array<[string, { shape: number[]; data: Vec }]> = [['params', { shape: [P], data: ck.params }]];
  for (const name of OPTIMIZER_STATE[ck.optimizer.name]) tensors.push([name, { shape: [P], data: ck.optimizer.state[name] }]);
  if (ck.bestParams) tensors.push(['best_params', { shape: [P], data: ck.bestParams }]);
  const scalarNames = OPTIMIZER_SCALARS[ck.optimizer.name];
  const scalars = Object.fromEntries(scalarNames.map((name) => [name, ck.optimizer.scalars[name]]));
  writeSafetensors(file, tensors, {
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    optimizer: ck.optimizer.name,
    ...(scalarNames.length > 0 ? { optimizer_scalars: JSON.stringify(scalars) } : {}),
    config: JSON.stringify(ck.config),
    state: JSON.stringify(ck.state),
    ...(ck.runId ? { run_id: ck.runId } : {}),
    ...(ck.data ? { data: JSON.stringify(ck.data) } : {}),
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
  /** Metadata `key` as JSON, validated by `schema`; the first problem as one line. */
  const parse = <T>(key: string, schema: z.ZodType<T>): T => {
    const parsed = schema.safeParse(json(key));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return fail(`metadata ${key}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  };
  const config = json('config');
  const state: TrainState = parse('state', TrainStateSchema);
  const inconsistent = stateProblem(state);
  if (inconsistent !== null) fail(`metadata state: ${inconsistent}`);
  const data: DataFingerprint | null = metadata.data !== undefined ? parse('data', DataFingerprintSchema) : null;
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
  const scalarNames = OPTIMIZER_SCALARS[name as OptimizerName];
  const scalars = scalarNames.length > 0 ? readScalars(json('optimizer_scalars'), scalarNames, fail) : {};
  const bestParams = tensors.has('best_params') ? sameLength('best_params') : null;
  return {
    config, state, params: params.data, optimizer: { name: name as OptimizerName, state: optimizerState, scalars }, bestParams,
    runId: metadata.run_id ?? null, data,
  };
}

/** The optimizer's state scalars from metadata optimizer_scalars: exactly `names`, each a finite number. */
function readScalars(value: unknown, names: readonly string[], fail: (problem: string) => never): Record<string, number> {
  const where = 'metadata optimizer_scalars';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where}: expected an object of ${names.join(', ')}, found ${JSON.stringify(value)}`);
  const obj = value as Record<string, unknown>;
  const extra = Object.keys(obj).filter((key) => !names.includes(key));
  if (extra.length > 0) fail(`${where}: unknown ${extra.map((key) => JSON.stringify(key)).join(', ')} (expected ${names.join(', ')})`);
  for (const name of names) {
    const v = obj[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}: ${name} is ${typeof v === 'number' ? v : JSON.stringify(v ?? null)}, expected a finite number`);
  }
  return Object.fromEntries(names.map((name) => [name, obj[name] as number]));
}

/**
 * What makes a state impossible for a run to have written, or null. The
 * schema has checked the types and signs (and that every number is finite).
 */
function stateProblem(st: TrainState): string | null {
  if (st.metrics.length !== st.epochsDone) return `${st.metrics.length} metrics rows for ${st.epochsDone} finished epochs`;
  const row = st.metrics.findIndex((m, i) => m.epoch !== i + 1);
  if (row >= 0) return `metrics row ${row + 1} is of epoch ${st.metrics[row].epoch}`;
  const s = st.sums;
  if (s.batches !== st.batchesDone) return `sums.batches is ${s.batches}, but batchesDone is ${st.batchesDone}`;
  if (s.seen < s.batches) return `sums.seen is ${s.seen}, fewer than the ${s.batches} batches done (a batch has at least 1 sample)`;
  if (s.correct > s.seen) return `sums.correct is ${s.correct}, more than the ${s.seen} samples seen`;
  for (const key of ['data', 'l2', 'seconds'] as const) if (s[key] < 0) return `sums.${key} is ${s[key]}, expected >= 0`;
  if (s.batches > 0 && s.seconds === 0) return `sums.seconds is 0 after ${s.batches} batches`;
  if (st.best !== null) {
    if (st.best.epoch > st.epochsDone) return `best.epoch is ${st.best.epoch}, after the ${st.epochsDone} epochs done`;
    const val = st.metrics[st.best.epoch - 1].val_accuracy;
    if (val !== st.best.val_accuracy) return `best.val_accuracy is ${st.best.val_accuracy}, but epoch ${st.best.epoch}'s row says ${val}`;
  }
  return null;
}
