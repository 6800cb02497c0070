// The multilayer perceptron: parameters in one flat buffer, and the buffers of
// one forward/backward pass, allocated once.
//
// Notation (seed 001, DESIGN.md "Numerics"); layer l = 0..L-1 maps I_l -> O_l:
//   A_{-1} = X                                     [N, I_0], the input batch
//   Z_l    = A_{l-1} W_l^T + b_l                   [N, O_l]
//   A_l    = f_l(Z_l)                              f = hidden activation, output activation for l = L-1
//   dA_l   = dE/dA_l                               for l = L-1 this is dE/dY, filled by the objective
//   delta_l = dE/dZ_l = f_l'(Z_l) ⊙ dA_l           (softmax: Jacobian-vector product)
//   dW_l   = delta_l^T A_{l-1}    db_l = Σ_n delta_l    dA_{l-1} = delta_l W_l
//
// Memory layout: params = [W_0 | b_0 | W_1 | b_1 | ...], W_l row-major [O_l, I_l]
// (PyTorch's nn.Linear layout). `grads` and the optimizer's velocity share that
// layout, so an update or a checkpoint is one loop or one write.
import { ACTIVATIONS, type ActivationKernels } from '../kernels/activations.js';
import { selectKernels, type KernelName, type MatmulKernels, type Vec } from '../kernels/matmul.js';
import { Rng, STREAM_INIT } from '../rng.js';
import { initWeights, outputBiasPrior, type InitScheme } from './init.js';

export type HiddenActivation = 'sigmoid' | 'tanh' | 'relu';
export type OutputActivation = 'sigmoid' | 'softmax';
export type OutputBiasInit = 'prior' | 'zero';
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface MlpSpec {
  layers: readonly number[]; // widths, input first: [784, 300, 10]
  hidden: HiddenActivation;
  output: OutputActivation;
}

/** Offsets of W_l and b_l in the flat parameter buffer. */
interface LayerSlot {
  I: number;
  O: number;
  wOffset: number;
  bOffset: number;
}

function layout(layers: readonly number[]): { slots: LayerSlot[]; size: number } {
  const slots: LayerSlot[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const I = layers[l];
    const O = layers[l + 1];
    slots.push({ I, O, wOffset: offset, bOffset: offset + I * O });
    offset += I * O + O;
  }
  return { slots, size: offset };
}

/** Views W_l, b_l into a buffer with the parameter layout. */
function views(buf: Vec, slots: LayerSlot[]): { W: Vec[]; b: Vec[] } {
  return {
    W: slots.map((s) => buf.subarray(s.wOffset, s.wOffset + s.I * s.O)),
    b: slots.map((s) => buf.subarray(s.bOffset, s.bOffset + s.O)),
  };
}

export class Mlp {
  readonly spec: MlpSpec;
  readonly L: number; // number of weight layers
  readonly slots: readonly LayerSlot[];
  readonly params: Vec;
  readonly W: Vec[];
  readonly b: Vec[];
  readonly Float: FloatArrayConstructor;

  constructor(spec: MlpSpec, Float: FloatArrayConstructor = Float32Array) {
    this.spec = { layers: [...spec.layers], hidden: spec.hidden, output: spec.output };
    const { slots, size } = layout(spec.layers);
    this.L = slots.length;
    this.slots = slots;
    this.Float = Float;
    this.params = new Float(size);
    ({ W: this.W, b: this.b } = views(this.params, slots));
  }

  static paramCount(layers: readonly number[]): number {
    return layout(layers).size;
  }

  get inputs(): number {
    return this.spec.layers[0];
  }

  get outputs(): number {
    return this.spec.layers[this.spec.layers.length - 1];
  }

  activation(l: number): ActivationKernels {
    return ACTIVATIONS[l === this.L - 1 ? this.spec.output : this.spec.hidden];
  }

  /** Seeded initialisation of every W_l (layer by layer, row-major); biases 0. */
  /**
   * Weights from `scheme` seeded by `seed`; biases 0, except a sigmoid output
   * layer's with outputBias 'prior' (see outputBiasPrior). Softmax outputs
   * are already uniform at zero bias, so 'prior' leaves them at 0.
   */
  init(scheme: InitScheme, seed: number, outputBias: OutputBiasInit = 'zero'): void {
    const rng = new Rng(seed, STREAM_INIT);
    this.params.fill(0);
    for (let l = 0; l < this.L; l++) initWeights(this.W[l], this.slots[l].I, this.slots[l].O, scheme, rng);
    if (outputBias === 'prior' && this.spec.output === 'sigmoid' && this.outputs > 1) {
      this.b[this.L - 1].fill(outputBiasPrior(this.outputs));
    }
  }

  /** PyTorch nn.Sequential-of-Linear names and shapes, as views (no copy). */
  namedTensors(): Array<[string, { shape: number[]; data: Vec }]> {
    const out: Array<[string, { shape: number[]; data: Vec }]> = [];
    for (let l = 0; l < this.L; l++) {
      const { I, O } = this.slots[l];
      out.push([`layers.${l}.weight`, { shape: [O, I], data: this.W[l] }]);
      out.push([`layers.${l}.bias`, { shape: [O], data: this.b[l] }]);
    }
    return out;
  }

  /** FLOPs of one training step per sample in the matrix products: forward, dW, and dA for l >= 1. */
  trainFlopsPerSample(): number {
    let f = 0;
    for (let l = 0; l < this.L; l++) {
      const { I, O } = this.slots[l];
      f += 2 * I * O * (l === 0 ? 2 : 3);
    }
    return f;
  }

  forwardFlopsPerSample(): number {
    return this.slots.reduce((f, s) => f + 2 * s.I * s.O, 0);
  }
}

/**
 * What the objective and the trainer use of a forward/backward pass (Pass
 * here, WasmPass in wasm-pass.ts). W and dW are the weights the pass computes
 * with and their gradients, in one layout (L2 adds lambda W into dW).
 */
export interface TrainPass {
  readonly Y: Vec;
  readonly logits: Vec;
  readonly dY: Vec;
  readonly deltaY: Vec;
  readonly W: readonly Vec[];
  readonly dW: readonly Vec[];
  forward(X: Vec, n: number): Vec;
  backwardOutput(): void;
  backwardLayers(X: Vec): void;
}

/**
 * Buffers of one forward/backward pass for batches of up to `capacity` rows,
 * allocated at construction; forward/backward allocate nothing.
 */
export class Pass implements TrainPass {
  readonly model: Mlp;
  readonly capacity: number;
  readonly Z: Vec[];
  readonly A: Vec[];
  readonly dA: Vec[];
  readonly delta: Vec[];
  readonly grads: Vec; // dE/dparams, same layout as model.params
  readonly dW: Vec[];
  readonly db: Vec[];
  private readonly kernels: MatmulKernels;
  private n = 0;

  constructor(model: Mlp, capacity: number, kernel: KernelName = 'blocked', withBackward = true) {
    this.model = model;
    this.capacity = capacity;
    this.kernels = selectKernels(kernel).kernels;
    const F = model.Float;
    const perLayer = (): Vec[] => model.slots.map((s) => new F(capacity * s.O));
    this.Z = perLayer();
    this.A = perLayer();
    this.dA = withBackward ? perLayer() : [];
    this.delta = withBackward ? perLayer() : [];
    this.grads = new F(withBackward ? model.params.length : 0);
    ({ W: this.dW, b: this.db } = withBackward ? views(this.grads, model.slots as LayerSlot[]) : { W: [], b: [] });
  }

  /** The weights the pass computes with: the model's own. */
  get W(): Vec[] {
    return this.model.W;
  }

  /** Rows of the last forward pass. */
  get rows(): number {
    return this.n;
  }

  /** Output activations Y = A_{L-1} (first `rows` rows are valid). */
  get Y(): Vec {
    return this.A[this.model.L - 1];
  }

  /** Logits Z_{L-1}. */
  get logits(): Vec {
    return this.Z[this.model.L - 1];
  }

  /** dE/dY, to be filled by the objective before backward. */
  get dY(): Vec {
    return this.dA[this.model.L - 1];
  }

  /** dE/dZ of the output layer, valid after backwardOutput. */
  get deltaY(): Vec {
    return this.delta[this.model.L - 1];
  }

  /** Z_l = A_{l-1} W_l^T + b_l,  A_l = f_l(Z_l), for the first n rows of X [n, I_0]. */
  forward(X: Vec, n: number): Vec {
    if (n > this.capacity) throw new RangeError(`batch of ${n} rows exceeds pass capacity ${this.capacity}`);
    this.n = n;
    const m = this.model;
    let input = X;
    for (let l = 0; l < m.L; l++) {
      const { I, O } = m.slots[l];
      this.kernels.forward(this.Z[l], input, m.W[l], m.b[l], n, I, O);
      m.activation(l).forward(this.A[l], this.Z[l], n, O);
      input = this.A[l];
    }
    return this.Y;
  }

  /** delta_{L-1} = f'(Z_{L-1}) ⊙ dY. Terms that are simpler in Z (softmax + cross-entropy) add into deltaY afterwards. */
  backwardOutput(): void {
    const m = this.model;
    const l = m.L - 1;
    m.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.n, m.slots[l].O);
  }

  /** From deltaY down to layer 0: every dW_l, db_l (overwritten), and delta_l for l < L-1. */
  backwardLayers(X: Vec): void {
    const m = this.model;
    const n = this.n;
    for (let l = m.L - 1; l >= 0; l--) {
      const { I, O } = m.slots[l];
      if (l < m.L - 1) m.activation(l).backward(this.delta[l], this.dA[l], this.A[l], n, O);
      const input = l === 0 ? X : this.A[l - 1];
      const dInput = l === 0 ? null : this.dA[l - 1]; // the data need no gradient
      this.kernels.backward(dInput, this.dW[l], this.db[l], this.delta[l], input, m.W[l], n, I, O);
    }
  }

  /** Both halves of backward, for objectives that only supply dE/dY. */
  backward(X: Vec): void {
    this.backwardOutput();
    this.backwardLayers(X);
  }
}
