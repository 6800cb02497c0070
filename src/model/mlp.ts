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
// A maxout hidden layer of H units and k pieces has O_l = H k rows of W_l,
// so Z_l and delta_l are [N, H k] while A_l and dA_l are [N, H] (shape.ts;
// slot.units is A_l's width); f_l is the max over each unit's k pieces.
//
// Memory layout: params = [W_0 | b_0 | W_1 | b_1 | ...], W_l row-major [O_l, I_l]
// (PyTorch's nn.Linear layout). Gradients and the optimizer's state tensors
// share that layout, so an update or a checkpoint is one loop or one write.
// The passes that compute with these parameters are in pass.ts (the
// reference) and wasm-pass.ts (the fast one).
import type { HiddenActivation, OutputActivation, OutputBiasInit } from '../config/schema.js';
import { ACTIVATIONS, maxout, type ActivationKernels } from '../kernels/activations.js';
import type { Vec } from '../kernels/matmul.js';
import { Rng, STREAM_INIT } from '../rng.js';
import { initWeights, outputBiasPrior, type InitScheme } from './init.js';
import { checkModelMemory } from './memory.js';
import { hiddenPieces, layerShapes, type LayerShape } from './shape.js';

export type { HiddenActivation, OutputActivation, OutputBiasInit, Vec };
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface MlpSpec {
  layers: readonly number[]; // units, input first: [784, 300, 10]
  hidden: HiddenActivation;
  output: OutputActivation;
  maxout_pieces?: number; // k of hidden: maxout (config model.maxout_pieces); unused by the other units
}

/** A layer's shape (shape.ts: I inputs, O rows of W_l, units of A_l) and the offsets of W_l and b_l in the flat parameter buffer. */
export interface LayerSlot extends LayerShape {
  wOffset: number;
  bOffset: number;
}

function layout(layers: readonly number[], pieces: number): { slots: LayerSlot[]; size: number } {
  const slots: LayerSlot[] = [];
  let offset = 0;
  for (const shape of layerShapes(layers, pieces)) {
    const { I, O } = shape;
    slots.push({ ...shape, wOffset: offset, bOffset: offset + I * O });
    offset += I * O + O;
  }
  return { slots, size: offset };
}

/** Views W_l, b_l into a buffer with the parameter layout. */
export function views(buf: Vec, slots: LayerSlot[]): { W: Vec[]; b: Vec[] } {
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
  /** k of the hidden layers: model.maxout_pieces for maxout, 1 for the other units. */
  readonly pieces: number;
  private readonly activations: ActivationKernels[];

  constructor(spec: MlpSpec, Float: FloatArrayConstructor = Float32Array) {
    this.pieces = hiddenPieces(spec);
    checkModelMemory(spec.layers, Float.BYTES_PER_ELEMENT, this.pieces); // a one-line refusal, not a RangeError or gigabytes
    this.spec = { layers: [...spec.layers], hidden: spec.hidden, output: spec.output, maxout_pieces: spec.maxout_pieces };
    const { slots, size } = layout(spec.layers, this.pieces);
    this.L = slots.length;
    this.slots = slots;
    this.Float = Float;
    this.params = new Float(size);
    ({ W: this.W, b: this.b } = views(this.params, slots));
    const hidden = spec.hidden === 'maxout' ? maxout(this.pieces) : ACTIVATIONS[spec.hidden];
    this.activations = slots.map((_, l) => (l === this.L - 1 ? ACTIVATIONS[spec.output] : hidden));
  }

  static paramCount(layers: readonly number[], pieces = 1): number {
    return layout(layers, pieces).size;
  }

  get inputs(): number {
    return this.spec.layers[0];
  }

  get outputs(): number {
    return this.spec.layers[this.spec.layers.length - 1];
  }

  /** 'sigmoid hidden', 'maxout hidden (2 pieces)': the hidden units in words, for logs and exports. */
  hiddenText(): string {
    return this.spec.hidden === 'maxout' ? `maxout hidden (${this.pieces} pieces)` : `${this.spec.hidden} hidden`;
  }

  /** f_l: the output activation for l = L-1, the hidden one below. */
  activation(l: number): ActivationKernels {
    return this.activations[l];
  }

  /**
   * Weights from `scheme` seeded by `seed`; biases 0, except a sigmoid output
   * layer's with outputBias 'prior' (see outputBiasPrior). Softmax outputs
   * are already uniform at zero bias, so 'prior' leaves them at 0.
   */
  init(scheme: InitScheme, seed: number, outputBias: OutputBiasInit): void {
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
}
