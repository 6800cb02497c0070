// The memory a model, a training run and a weights file need, estimated from
// the layer widths, the batch and the data before anything is allocated, and
// the one limit they are held to. A refusal is one line with the figure and
// the limit (MemoryError, or the caller's error naming the file).
//
// The limit, MEMORY_LIMIT_BYTES = 2 GiB (2^31 bytes):
//   - the fast training pass keeps every buffer of a step in one WebAssembly
//     memory, whose maximum is 4 GiB (65536 pages of 64 KiB) and which only
//     grows; half of it leaves room for the allocator's alignment and
//     fragmentation and for the rest of the module's users;
//   - Node 20's largest ArrayBuffer/Buffer is 4 GiB (buffer.constants
//     .MAX_LENGTH = 2^32 bytes) and a typed array holds at most 2^32 values,
//     so no single array of a model within the limit can reach either.
// The estimates count what is held at once or in turn (an upper bound, not
// an exact peak), in bytes:
//
//   P  = parameters = Σ_l (I_l O_l + O_l);  Pw = the fast pass's layout of
//        them (wasm-layout.ts: W_0^T in 16-column panels, so O_0 rounds up to 16)
//   N  = rows of a training batch (its capacity);  S = Σ_l O_l  (all units)
//        (a maxout layer of H units, k pieces, shape.ts: O_l = H k rows of W_l,
//        the width of its Z and delta; its A and dA have H columns. So below,
//        4 S = 2 Σ_l (O_l + H_l) and 2 S = Σ_l (O_l + H_l), H_l = O_l otherwise)
//   k  = the optimizer's state tensors (sgd, nesterov: 1; adam, adamw: 2; rprop: 3)
//
//   training = parameters   f P (1 + k + best)        model.params, optimizer state, best copy
//                           f P (1 + k + best)        the checkpoint being encoded (the largest output)
//                           f Pw (2 + k)              the pass: working params, grads, state
//            + batch        f N (I_0 + 4 S)           X and Z, A, dA, delta of every layer
//                           + the fast pass's scratch: W_l for dA, the CSR of X, gemm panels
//                           + targets, labels, order, and the validation chunk's forward buffers
//            + data         n (F + 1) + 4 n            train and validation images, labels, shuffle order
//   loading weights = the file + 4 P (values decoded to float32) + f P (the model)
//                   + f C (I_0 + 2 S)                 one evaluation chunk of C rows (X, Z, A)
//
// with f = 4 bytes (float32; mlp-grad's float64 models: 8) and best = 1 when
// there is a validation split. The fast pass's part is held equal to what
// WasmPass allocates by test/model/memory.test.ts. A training run's estimate,
// which needs the data, is src/train/memory.ts's.
import { MemoryError } from '../errors.js';
import { parameterCount, rowFloats } from './shape.js';

export { parameterCount };

export const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;


/** Bytes by part; `total` is their sum. */
export interface MemoryEstimate {
  parameters: number;
  batch: number;
  data: number;
  total: number;
}

/** 1.23 GiB, 45.6 MiB, 7.0 KiB; 3.73e+21 GiB. */
export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (gib >= 1e6) return `${gib.toPrecision(3)} GiB`; // 3.73e+21 GiB: widths no machine holds
  if (gib >= 1) return `${gib.toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export const LIMIT_TEXT = `the ${MEMORY_LIMIT_BYTES / 1024 ** 3} GiB memory limit`;

/** 784-300-10; a long list shortened (a hostile file can have thousands of layers): 784-16-16-...-16-10 (16802 widths). */
function widths(layers: readonly number[]): string {
  if (layers.length <= 8) return layers.join('-');
  return `${layers.slice(0, 3).join('-')}-...-${layers.slice(-2).join('-')} (${layers.length} widths)`;
}
export const modelName = (layers: readonly number[]): string => `model ${widths(layers)}`;

/**
 * Throws MemoryError when the parameters of a model alone exceed the limit: the first check, before Mlp allocates them.
 * `pieces`: k of maxout hidden layers (shape.ts), 1 otherwise.
 */
export function checkModelMemory(layers: readonly number[], floatBytes: number, pieces = 1): void {
  const P = parameterCount(layers, pieces);
  const bytes = P * floatBytes;
  if (bytes > MEMORY_LIMIT_BYTES) {
    throw new MemoryError(
      modelName(layers),
      `its ${P.toLocaleString('en-US')} parameters alone need ${formatBytes(bytes)} (${floatBytes === 8 ? 'float64' : 'float32'}), ` +
        `more than ${LIMIT_TEXT}`,
    );
  }
}

/**
 * The problem with loading a model of these widths from a file of
 * `fileBytes` bytes and evaluating it `chunk` rows at a time, or null when it
 * fits: the caller names the file in its error.
 */
export function loadMemoryProblem(layers: readonly number[], fileBytes: number, floatBytes: number, chunk: number, pieces = 1): string | null {
  const P = parameterCount(layers, pieces);
  const decoded = 4 * P;
  const model = floatBytes * P;
  const row = rowFloats(layers, pieces);
  const run = floatBytes * chunk * (layers[0] + row.Z + row.A);
  const total = fileBytes + decoded + model + run;
  if (total <= MEMORY_LIMIT_BYTES) return null;
  return (
    `a ${widths(layers)} model needs about ${formatBytes(total)} to load and evaluate, more than ${LIMIT_TEXT} ` +
    `(file ${formatBytes(fileBytes)}, ${P.toLocaleString('en-US')} values decoded ${formatBytes(decoded)}, ` +
    `model ${formatBytes(model)}, ${chunk} rows of activations ${formatBytes(run)})`
  );
}
