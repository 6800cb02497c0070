// The objective of a batch of d samples is a sum of terms (DESIGN.md "Numerics"):
//
//   E = Σ_i loss_i  +  gamma/2 (tr S_w - tr S_b)  +  lambda/2 Σ_l ||W_l||^2
//
// Each term supplies its value and adds its gradient; they compose by addition.
// Terms on the outputs add into dY = dE/dY, the cross-entropy of a softmax adds
// into dE/dZ of the output layer, L2 adds straight into dW. Nothing here divides
// by d: the optimizer applies the 1/d of W -= lr (1/d) dE/dW in one place.
//
// L2 weight decay (seed 002) is on the weights only (biases are not decayed):
// dE_l2/dW_l = lambda W_l. It is added once per batch to the summed objective,
// so after the optimizer's 1/d each step decays W by lr*lambda/d: lambda plays
// the role of Ng's lambda/m. The pass holds W and dW in its own layout and
// computes Σ ||W_l||^2 and dW += lambda W (TrainPass.l2Sum, addL2Grad: the
// reference pass in TypeScript, the fast one in the module).
import type { Config, LossName } from '../config/schema.js';
import type { Mlp } from '../model/mlp.js';
import type { TrainPass } from '../model/pass.js';
import type { OutputBatch } from './batch.js';
import { Discriminative, type DiscriminativeGradient } from './discriminative.js';
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
  private readonly pass: Pick<TrainPass, 'l2Sum'>;
  private readonly disc: Discriminative | null;
  private readonly current: TermValues = { data: 0, discriminative: 0, l2: 0, total: 0, trSw: null, trSb: null };

  /** `pass`: the pass whose weights the L2 term reads (the one backward is given). */
  constructor(spec: ObjectiveSpec, model: Mlp, pass: Pick<TrainPass, 'l2Sum'>) {
    if (spec.loss === 'cross_entropy' && model.spec.output !== 'softmax') {
      throw new Error('cross_entropy is defined here on softmax outputs only');
    }
    this.spec = spec;
    this.pass = pass;
    const O = model.outputs;
    this.disc = spec.gamma > 0 ? new Discriminative(spec.gamma, O, O, spec.discriminativeGradient) : null;
  }

  get needsLabels(): boolean {
    return this.disc !== null;
  }

  /**
   * Values of every term on this batch (the L2 term on the weights of the
   * pass given at construction). The returned object is reused by the next
   * call: copy what you keep.
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
    const l2 = this.spec.lambda > 0 ? 0.5 * this.spec.lambda * this.pass.l2Sum() : 0;
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
    if (this.spec.lambda > 0) pass.addL2Grad(this.spec.lambda);
  }
}
