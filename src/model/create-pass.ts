// The one place a backend is chosen: the WebAssembly pass where the module
// loads and the model is float32 with `kernel: wasm`, else the reference pass
// on the TypeScript kernels (which also serves float64 models).
import type { KernelName } from '../config/schema.js';
import { setKernelThreads } from '../kernels/matmul.js';
import { wasmRuntime } from '../kernels/wasm/runtime.js';
import type { PassRegularization } from './dropout.js';
import type { Mlp } from './mlp.js';
import type { OptimizerSettings } from './optimizer.js';
import { Pass, type TrainPass } from './pass.js';
import { WasmPass } from './wasm-pass.js';

export interface TrainPassOptions {
  /** Rows of the largest batch. */
  capacity: number;
  kernel: KernelName;
  threads: number | 'auto';
  optimizer: OptimizerSettings;
  /** Dropout and max-norm (dropout.ts); none if absent. */
  regularization?: PassRegularization;
  /** Fraction of non-zero values in the training inputs (after input dropout): the WebAssembly pass's first layer skips zeros only when they are many. */
  inputDensity?: number;
}

export function createTrainPass(model: Mlp, o: TrainPassOptions): TrainPass {
  if (o.kernel === 'wasm') setKernelThreads(o.threads);
  const runtime = o.kernel === 'wasm' && model.Float === Float32Array ? wasmRuntime().runtime : null;
  if (runtime) return new WasmPass(model, runtime, o);
  return new Pass(model, o.capacity, o.kernel, true, o.optimizer, o.regularization);
}
