// A pass: the buffers and the arithmetic of one training step on a batch,
//
//   forward          Z_l = A_{l-1} W_l^T + b_l,  A_l = f_l(Z_l)          (A_{-1} = X)
//   backwardOutput   delta_{L-1} = f'(Z_{L-1}) ⊙ dY                      (dY filled by the objective)
//   backwardLayers   dW_l = delta_l^T A_{l-1},  db_l = Σ_n delta_l,  dA_{l-1} = delta_l W_l
//   step             the optimizer's update of every parameter (optimizer.ts)
//
// (notation of mlp.ts). Two passes keep this contract: Pass below, the
// reference, on the model's own arrays with the TypeScript kernels (float64
// sums; a float64 model computes in float64 throughout), and WasmPass
// (wasm-pass.ts), whose every buffer lives in the WebAssembly memory.
// create-pass.ts picks one; nothing above it names a backend.
import type { KernelName } from '../config/schema.js';
import { selectKernels, type MatmulKernels, type Vec } from '../kernels/matmul.js';
import { views, type LayerSlot, type Mlp } from './mlp.js';
import {
  copyOptimizerState, newOptimizerScalars, newOptimizerState, referenceStep,
  type OptimizerScalars, type OptimizerSettings, type OptimizerState, type StepInputs,
} from './optimizer.js';

/** The forward half, all that evaluation needs. */
export interface ForwardPass {
  /** Rows of the largest batch. */
  readonly capacity: number;
  /** The batch input [capacity, I_0]: a batch source writes here. */
  readonly X: Vec;
  /** Output activations Y = A_{L-1} and logits Z_{L-1} [capacity, O] (the first n rows are valid). */
  readonly Y: Vec;
  readonly logits: Vec;
  /** Z_l, A_l of every layer for the first n rows of X. */
  forward(n: number): Vec;
}

/**
 * A training pass. W and dW are the weights it computes with and their
 * gradients, in its own layout (L2 adds lambda W into dW elementwise, which
 * any layout allows). The canonical parameters (model.params, PyTorch layout)
 * and optimizer state tensors go in by load() and come out by store(); the
 * optimizer's state scalars have no layout and are read and written in place.
 */
export interface TrainPass extends ForwardPass {
  /** dE/dY, filled by the objective before backward; deltaY = dE/dZ_{L-1} after backwardOutput. */
  readonly dY: Vec;
  readonly deltaY: Vec;
  readonly W: readonly Vec[];
  readonly dW: readonly Vec[];
  backwardOutput(): void;
  /** From deltaY down to layer 0, on the input of the last forward: every dW_l, db_l (overwritten). */
  backwardLayers(): void;
  /** The optimizer's state scalars (OPTIMIZER_SCALARS), the one copy. */
  readonly scalars: OptimizerScalars;
  /** The optimizer's update with the gradient of a batch of d rows (optimizer.ts: StepInputs). */
  step(s: StepInputs): void;
  load(params: Vec, state: OptimizerState): void;
  store(params: Vec, state: OptimizerState): void;
  /** Give back what the pass holds outside the JavaScript heap. */
  dispose(): void;
}

const PLAIN_SGD: OptimizerSettings = { name: 'sgd', momentum: 0 };

/**
 * The reference pass: buffers for batches of up to `capacity` rows,
 * allocated at construction (forward/backward/step allocate nothing); the
 * working parameters are the model's own.
 */
export class Pass implements TrainPass {
  readonly model: Mlp;
  readonly capacity: number;
  readonly X: Vec;
  readonly Z: Vec[];
  readonly A: Vec[];
  readonly dA: Vec[];
  readonly delta: Vec[];
  readonly grads: Vec; // dE/dparams, same layout as model.params
  readonly dW: Vec[];
  readonly db: Vec[];
  readonly optimizer: OptimizerSettings;
  readonly state: OptimizerState;
  readonly scalars: OptimizerScalars;
  private readonly kernels: MatmulKernels;
  private input: Vec; // the X of the last forward
  private n = 0;

  constructor(model: Mlp, capacity: number, kernel: KernelName, withBackward = true, optimizer: OptimizerSettings = PLAIN_SGD) {
    this.model = model;
    this.capacity = capacity;
    this.kernels = selectKernels(kernel).kernels;
    const F = model.Float;
    // Z_l, delta_l [capacity, O_l]; A_l, dA_l [capacity, units_l] (they differ for maxout layers)
    const perLayer = (width: 'O' | 'units'): Vec[] => model.slots.map((s) => new F(capacity * s[width]));
    this.X = new F(capacity * model.inputs);
    this.input = this.X;
    this.Z = perLayer('O');
    this.A = perLayer('units');
    this.dA = withBackward ? perLayer('units') : [];
    this.delta = withBackward ? perLayer('O') : [];
    this.grads = new F(withBackward ? model.params.length : 0);
    ({ W: this.dW, b: this.db } = withBackward ? views(this.grads, model.slots as LayerSlot[]) : { W: [], b: [] });
    this.optimizer = optimizer;
    this.state = newOptimizerState(optimizer, withBackward ? model.params.length : 0, F);
    this.scalars = newOptimizerScalars(optimizer);
  }

  /** The weights the pass computes with: the model's own. */
  get W(): Vec[] {
    return this.model.W;
  }
  get Y(): Vec {
    return this.A[this.model.L - 1];
  }
  get logits(): Vec {
    return this.Z[this.model.L - 1];
  }
  get dY(): Vec {
    return this.dA[this.model.L - 1];
  }
  get deltaY(): Vec {
    return this.delta[this.model.L - 1];
  }

  /** Z_l = A_{l-1} W_l^T + b_l,  A_l = f_l(Z_l), for the first n rows of X [n, I_0] (this.X unless given). */
  forward(n: number, X: Vec = this.X): Vec {
    if (n > this.capacity) throw new RangeError(`batch of ${n} rows exceeds pass capacity ${this.capacity}`);
    this.n = n;
    this.input = X;
    const m = this.model;
    let input = X;
    for (let l = 0; l < m.L; l++) {
      const { I, O, units } = m.slots[l];
      this.kernels.forward(this.Z[l], input, m.W[l], m.b[l], n, I, O);
      m.activation(l).forward(this.A[l], this.Z[l], n, units);
      input = this.A[l];
    }
    return this.Y;
  }

  /** delta_{L-1} = f'(Z_{L-1}) ⊙ dY. Terms that are simpler in Z (softmax + cross-entropy) add into deltaY afterwards. */
  backwardOutput(): void {
    const m = this.model;
    const l = m.L - 1;
    m.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.Z[l], this.n, m.slots[l].units);
  }

  /** From deltaY down to layer 0: every dW_l, db_l (overwritten), and delta_l for l < L-1. */
  backwardLayers(): void {
    const m = this.model;
    const n = this.n;
    for (let l = m.L - 1; l >= 0; l--) {
      const { I, O, units } = m.slots[l];
      if (l < m.L - 1) m.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.Z[l], n, units);
      const input = l === 0 ? this.input : this.A[l - 1];
      const dInput = l === 0 ? null : this.dA[l - 1]; // the data need no gradient
      this.kernels.backward(dInput, this.dW[l], this.db[l], this.delta[l], input, m.W[l], n, I, O);
    }
  }

  /** Both halves of backward, for objectives that only supply dE/dY. */
  backward(): void {
    this.backwardOutput();
    this.backwardLayers();
  }

  step(s: StepInputs): void {
    const { params: p, W: weights } = this.model;
    referenceStep(this.optimizer, { p, g: this.grads, weights }, this.state, this.scalars, s);
  }

  load(params: Vec, state: OptimizerState): void {
    if (params !== this.model.params) this.model.params.set(params);
    copyOptimizerState(this.state, state);
  }

  store(params: Vec, state: OptimizerState): void {
    if (params !== this.model.params) params.set(this.model.params);
    copyOptimizerState(state, this.state);
  }

  dispose(): void {}
}
