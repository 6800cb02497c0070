// The memory a training run needs, estimated before anything is allocated
// (the table at the top of src/model/memory.ts), and its refusal.
import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';
import type { Dataset } from '../data/mnist.js';
import { MemoryError } from '../errors.js';
import { EVAL_CHUNK } from '../eval/evaluate.js';
import { formatBytes, LIMIT_TEXT, MEMORY_LIMIT_BYTES, modelName, parameterCount, checkModelMemory, type MemoryEstimate } from '../model/memory.js';
import { dropoutBytes } from '../model/dropout.js';
import { OPTIMIZER_STATE, optimizerSettings } from '../model/optimizer.js';
import { hiddenPieces, rowFloats } from '../model/shape.js';
import { wasmParameterBytes, wasmPassBytes } from '../model/wasm-buffers.js';

/** What a training run of `cfg` on these datasets needs (see the table at the top). */
export function trainMemory(cfg: Config, train: Dataset, validation: Dataset | null): MemoryEstimate {
  const t = cfg.training;
  const layers = cfg.model.layers;
  const f = 4; // the trainer's models are float32
  const I0 = layers[0];
  const O = layers[layers.length - 1];
  const pieces = hiddenPieces(cfg.model);
  const row = rowFloats(layers, pieces); // Σ O_l (Z, delta) and Σ units (A, dA): S each without maxout
  const P = parameterCount(layers, pieces);
  const k = OPTIMIZER_STATE[optimizerSettings(cfg).name].length;
  const best = validation && validation.n > 0 ? 1 : 0;
  const N = Math.min(t.batch_size === 'full' ? train.n : t.batch_size, train.n);

  let parameters = 2 * f * P * (1 + k + best);
  let batch = 4 * N * O + N; // targets D, batch labels
  if (t.kernel === 'wasm') {
    const threads = t.threads === 'auto' ? availableParallelism() : t.threads;
    const all = wasmPassBytes(layers, N, k, threads, pieces, cfg.model.hidden);
    const params = wasmParameterBytes(layers, k, pieces);
    parameters += params;
    batch += all - params;
  } else {
    parameters += f * P * (1 + k); // the reference pass's grads and state (it works on model.params)
    batch += f * N * (I0 + 2 * row.Z + 2 * row.A);
  }
  batch += dropoutBytes(cfg.regularization.dropout, layers, N, t.kernel !== 'wasm'); // the dropped copies of X and the hidden A_l
  if (best) {
    const C = Math.min(EVAL_CHUNK, validation!.n);
    batch += f * C * (I0 + row.Z + row.A) + 4 * C * O + C;
  }
  const rows = train.n + (validation?.n ?? 0);
  const data = rows * (train.features + 1) + 4 * rows;
  return { parameters, batch, data, total: parameters + batch + data };
}

/**
 * Throws MemoryError, naming the figure and the limit, when a training run
 * would need more than the limit. Called first thing by the Trainer.
 */
export function checkTrainMemory(cfg: Config, train: Dataset, validation: Dataset | null): void {
  const layers = cfg.model.layers;
  const pieces = hiddenPieces(cfg.model);
  checkModelMemory(layers, 4, pieces);
  const m = trainMemory(cfg, train, validation);
  if (m.total <= MEMORY_LIMIT_BYTES) return;
  const N = Math.min(cfg.training.batch_size === 'full' ? train.n : cfg.training.batch_size, train.n);
  throw new MemoryError(
    `${modelName(layers)}, batch ${N}`,
    `training needs about ${formatBytes(m.total)}, more than ${LIMIT_TEXT} ` +
      `(${parameterCount(layers, pieces).toLocaleString('en-US')} parameters and their copies ${formatBytes(m.parameters)}, ` +
      `batch buffers ${formatBytes(m.batch)}, data ${formatBytes(m.data)})`,
  );
}
