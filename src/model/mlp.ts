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
// (PyTorch's nn.Linear layout). Gradients and the optimizer's state tensors
// share that layout, so an update or a checkpoint is one loop or one write.
// The passes that compute with these parameters are in pass.ts (the
// reference) and wasm-pass.ts (the fast one).
import type { HiddenActivation, OutputActivation, OutputBiasInit } from '../config/schema.js';
import { ACTIVATIONS, type ActivationKernels } from '../kernels/activations.js';
import type { Vec } from '../kernels/matmul.js';
import { Rng, STREAM_INIT } from '../rng.js';
import { initWeights, outputBiasPrior, type InitScheme } from './init.js';
import { checkModelMemory } from './memory.js';

export type { HiddenActivation, OutputActivation, OutputBiasInit, Vec };
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface MlpSpec {
  layers: readonly number[]; // widths, input first: [784, 300, 10]
  hidden: HiddenActivation;
  output: OutputActivation;
}

/** Offsets of W_l and b_l in the flat parameter buffer. */
export interface LayerSlot {
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

  constructor(spec: MlpSpec, Float: FloatArrayConstructor = Float32Array) {
    checkModelMemory(spec.layers, Float.BYTES_PER_ELEMENT); // a one-line refusal, not a RangeError or gigabytes
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
