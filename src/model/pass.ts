// A pass: the buffers and the arithmetic of one training step on a batch,
//
//   forward          Z_l = A_{l-1} W_l^T + b_l,  A_l = f_l(Z_l)          (A_{-1} = X)
//   backwardOutput   delta_{L-1} = f'(Z_{L-1}) ⊙ dY                      (dY filled by the objective)
//   backwardLayers   dW_l = delta_l^T A_{l-1},  db_l = Σ_n delta_l,  dA_{l-1} = delta_l W_l
//   step             the optimizer's update of every parameter (optimizer.ts), then max-norm (max-norm.ts)
//
// (notation of mlp.ts). Two passes keep this contract: Pass below, the
// reference, on the model's own arrays with the TypeScript kernels (float64
// sums; a float64 model computes in float64 throughout), and WasmPass
// (wasm-pass.ts), whose every buffer lives in the WebAssembly memory.
// create-pass.ts picks one; nothing above it names a backend.
//
// With dropout (dropout.ts) each layer reads the dropped copy of its input
// (X̃, Ã_{l-1}), for the product and for dW_l, and backwardLayers sends
// dE/dÃ_l back through the same mask before f_l'.
import type { KernelName } from '../config/schema.js';
import { dropoutMask } from '../kernels/dropout.js';
import { selectKernels, type MatmulKernels, type Vec } from '../kernels/matmul.js';
import { Dropout, NO_PASS_REGULARIZATION, type PassRegularization } from './dropout.js';
import { applyMaxNorm } from './max-norm.js';
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
 * gradients, in its own layout; the L2 term's sum of squares and its
 * gradient lambda W are the pass's to compute (l2Sum, addL2Grad: elementwise,
 * which any layout allows). The canonical parameters (model.params, PyTorch layout)
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
  /**
   * Dropout: the following forward and backward use the masks of step t >= 1 (dropout.ts), or none (t = 0, the
   * default). With input dropout the fast pass drops X in place: write X before every forward with masks.
   */
  useMasks(t: number): void;
  /**
   * Σ_l Σ_k W_l[k]^2 in float64, in an order of the pass's own, fixed for a
   * network (the same on any number of threads): the reference's is
   * sequential (sumOfSquares), the fast pass's by blocks (l2-wat.ts).
   */
  l2Sum(): number;
  /** dW_l += lambda W_l for every layer (after backwardLayers): each element in float64, rounded once to the pass's float, as addScaled. */
  addL2Grad(lambda: number): void;
  /** The optimizer's state scalars (OPTIMIZER_SCALARS), the one copy. */
  readonly scalars: OptimizerScalars;
  /** The optimizer's update with the gradient of a batch of d rows (optimizer.ts: StepInputs), then max-norm if set. */
  step(s: StepInputs): void;
  load(params: Vec, state: OptimizerState): void;
  store(params: Vec, state: OptimizerState): void;
  /** Give back what the pass holds outside the JavaScript heap. */
  dispose(): void;
}

const PLAIN_SGD: OptimizerSettings = { name: 'sgd', momentum: 0 };

/** Σ_l Σ_k W_l[k]^2, one float64 sum in order. */
export function sumOfSquares(W: readonly Vec[]): number {
  let s = 0;
  for (const w of W) for (let k = 0; k < w.length; k++) s += w[k] * w[k];
  return s;
}

/** dW_l += lambda W_l (in float64, rounded to the arrays' float on the store). */
export function addScaled(dW: readonly Vec[], lambda: number, W: readonly Vec[]): void {
  for (let l = 0; l < W.length; l++) {
    const w = W[l];
    const g = dW[l];
    for (let k = 0; k < w.length; k++) g[k] += lambda * w[k];
  }
}

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
  private readonly inputs: Vec[]; // what each layer read in the last forward: X (or X̃), A_{l-1} (or Ã_{l-1})
  readonly dropout: Dropout<Vec> | null; // null: nothing dropped
  private readonly maxNorm: number;
  private n = 0;

  constructor(model: Mlp, capacity: number, kernel: KernelName, withBackward = true, optimizer: OptimizerSettings = PLAIN_SGD, reg: PassRegularization = NO_PASS_REGULARIZATION) {
    this.model = model;
    this.capacity = capacity;
    this.kernels = selectKernels(kernel).kernels;
    const F = model.Float;
    // Z_l, delta_l [capacity, O_l]; A_l, dA_l [capacity, units_l] (they differ for maxout layers)
    const perLayer = (width: 'O' | 'units'): Vec[] => model.slots.map((s) => new F(capacity * s[width]));
    this.X = new F(capacity * model.inputs);
    this.inputs = model.slots.map(() => this.X);
    this.Z = perLayer('O');
    this.A = perLayer('units');
    this.dA = withBackward ? perLayer('units') : [];
    this.delta = withBackward ? perLayer('O') : [];
    this.grads = new F(withBackward ? model.params.length : 0);
    ({ W: this.dW, b: this.db } = withBackward ? views(this.grads, model.slots as LayerSlot[]) : { W: [], b: [] });
    this.optimizer = optimizer;
    this.state = newOptimizerState(optimizer, withBackward ? model.params.length : 0, F);
    this.scalars = newOptimizerScalars(optimizer);
    this.dropout = withBackward ? Dropout.of(model, capacity, reg, { run: dropoutMask, alloc: (floats): Vec => new F(floats), inPlaceInput: false }) : null;
    this.maxNorm = reg.maxNorm;
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
    const m = this.model;
    const drop = this.dropout;
    let input = drop ? drop.input(X, n) : X;
    for (let l = 0; l < m.L; l++) {
      const { I, O, units } = m.slots[l];
      this.inputs[l] = input;
      this.kernels.forward(this.Z[l], input, m.W[l], m.b[l], n, I, O);
      m.activation(l).forward(this.A[l], this.Z[l], n, units);
      input = drop ? drop.hidden(l, this.A[l], n) : this.A[l];
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
      if (l < m.L - 1) {
        this.dropout?.backward(l, this.dA[l], n); // dE/dÃ_l -> dE/dA_l
        m.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.Z[l], n, units);
      }
      const input = this.inputs[l];
      const dInput = l === 0 ? null : this.dA[l - 1]; // the data need no gradient
      this.kernels.backward(dInput, this.dW[l], this.db[l], this.delta[l], input, m.W[l], n, I, O);
    }
  }

  l2Sum(): number {
    return sumOfSquares(this.model.W);
  }

  addL2Grad(lambda: number): void {
    addScaled(this.dW, lambda, this.model.W);
  }

  /** Both halves of backward, for objectives that only supply dE/dY. */
  backward(): void {
    this.backwardOutput();
    this.backwardLayers();
  }

  step(s: StepInputs): void {
    const { params: p, W: weights } = this.model;
    referenceStep(this.optimizer, { p, g: this.grads, weights }, this.state, this.scalars, s);
    if (this.maxNorm > 0) applyMaxNorm(this.model, this.maxNorm);
  }

  useMasks(t: number): void {
    this.dropout?.setStep(t);
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
