// The objective of a batch of d samples is a sum of terms (DESIGN.md "Numerics"):
//
//   E = Σ_i loss_i  +  gamma/2 (tr S_w - tr S_b)  +  lambda/2 Σ_l ||W_l||^2
//
// Each term supplies its value and adds its gradient; they compose by addition.
// Terms on the outputs add into dY = dE/dY, the cross-entropy of a softmax adds
// into dE/dZ of the output layer, L2 adds straight into dW. Nothing here divides
// by d: the optimizer applies the 1/d of W -= lr (1/d) dE/dW in one place.
import type { Config, LossName } from '../config/schema.js';
import type { Vec } from '../kernels/matmul.js';
import type { Mlp } from '../model/mlp.js';
import type { TrainPass } from '../model/pass.js';
import type { OutputBatch } from './batch.js';
import { Discriminative, type DiscriminativeGradient } from './discriminative.js';
import { l2AddGrad, l2Value } from './l2.js';
import { crossEntropy, mse } from './losses.js';

export type { LossName };

export interface ObjectiveSpec {
  loss: LossName;
  gamma: number; // discriminative regularizer; 0 = off
  lambda: number; // L2 weight decay; 0 = off
  discriminativeGradient?: DiscriminativeGradient; // default 'exact'; 'seed_blog' only for the ablation
}

/** The objective a config asks for. */
export function objectiveSpec(cfg: Config): ObjectiveSpec {
  const r = cfg.regularization;
  return { loss: cfg.loss, gamma: r.discriminative, lambda: r.l2, discriminativeGradient: r.discriminative_gradient };
}

export interface TermValues {
  data: number;
  discriminative: number;
  l2: number;
  total: number;
  trSw: number | null; // scatter traces of the outputs, when the discriminative term is on
  trSb: number | null;
}

export class Objective {
  readonly spec: ObjectiveSpec;
  private readonly weights: readonly Vec[];
  private readonly disc: Discriminative | null;
  private readonly current: TermValues = { data: 0, discriminative: 0, l2: 0, total: 0, trSw: null, trSb: null };

  /** `weights`: where the L2 term reads W, the weights the pass computes with (pass.W). */
  constructor(spec: ObjectiveSpec, model: Mlp, weights: readonly Vec[]) {
    if (spec.loss === 'cross_entropy' && model.spec.output !== 'softmax') {
      throw new Error('cross_entropy is defined here on softmax outputs only');
    }
    this.spec = spec;
    this.weights = weights;
    const O = model.outputs;
    this.disc = spec.gamma > 0 ? new Discriminative(spec.gamma, O, O, spec.discriminativeGradient) : null;
  }

  get needsLabels(): boolean {
    return this.disc !== null;
  }

  /**
   * Values of every term on this batch (the L2 term on the weights given at
   * construction). The returned object is reused by the next call: copy what you keep.
   */
  values(b: OutputBatch): TermValues {
    const data = this.spec.loss === 'mse' ? mse.value(b) : crossEntropy.value(b);
    let discriminative = 0;
    let trSw: number | null = null;
    let trSb: number | null = null;
    if (this.disc) {
      ({ trSw, trSb } = this.disc.scatter(b));
      discriminative = 0.5 * this.disc.gamma * (trSw - trSb);
    }
    const l2 = this.spec.lambda > 0 ? l2Value(this.spec.lambda, this.weights) : 0;
    const v = this.current;
    v.data = data;
    v.discriminative = discriminative;
    v.l2 = l2;
    v.total = data + discriminative + l2;
    v.trSw = trSw;
    v.trSb = trSb;
    return v;
  }

  /**
   * After pass.forward: every gradient of E into the pass's dW, db (and the
   * intermediate dA, delta of every layer into its buffers).
   */
  backward(pass: TrainPass, b: OutputBatch): void {
    const dY = pass.dY;
    dY.fill(0, 0, b.n * b.O);
    if (this.spec.loss === 'mse') mse.addGradY(dY, b);
    this.disc?.addGradY(dY, b);
    pass.backwardOutput();
    if (this.spec.loss === 'cross_entropy') crossEntropy.addGradZ(pass.deltaY, b);
    pass.backwardLayers();
    if (this.spec.lambda > 0) l2AddGrad(this.spec.lambda, pass.dW, pass.W);
  }
}
