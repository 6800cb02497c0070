// The discriminative regularizer of seed 000: LDA's "small within-class,
// large between-class scatter", applied to the output activations of a batch.
//
//   R = gamma/2 (tr S_w - tr S_b)
//   tr S_w = Σ_i ||y_i - m_c(i)||^2           m_c = mean of the outputs of class c in the batch
//   tr S_b = Σ_c n_c ||m_c - m||^2            m   = mean of all outputs of the batch, n_c = count of c
//
// Derivation of the exact gradient. The total scatter splits as
//   tr S_t = Σ_i ||y_i - m||^2 = tr S_w + tr S_b,
// so tr S_w - tr S_b = 2 tr S_w - tr S_t. Differentiate each part w.r.t. y_i
// (i in class c), remembering that m_c and m depend on y_i too:
//   d tr S_w / dy_i = 2 (y_i - m_c) - (2/n_c) Σ_{k in c} (y_k - m_c) = 2 (y_i - m_c)
//   d tr S_t / dy_i = 2 (y_i - m)   - (2/d)   Σ_k (y_k - m)          = 2 (y_i - m)
// (the sums of deviations from a mean are 0). Hence
//   dR/dy_i = gamma/2 (4 (y_i - m_c) - 2 (y_i - m)) = gamma (y_i - 2 m_c + m).
// The hand formula that circulates with seed 000,
//   gamma [(y_i - m_c)(1 - 1/n_c) - (m_c - m)(1/n_c - 1/d)],
// differentiates (y_i - m_c)^2 - (m_c - m)^2 for one sample in isolation and drops
// the cross terms through which y_i moves every m_c and m; the tests show it
// disagrees with finite differences. It is kept, selectable as
// regularization.discriminative_gradient: seed_blog, only to measure what the
// slip costs in training (the ablation row of the results table); it is not the
// gradient of R.
import type { Vec } from '../kernels/matmul.js';
import type { OutputBatch } from './batch.js';

export interface Scatter {
  trSw: number;
  trSb: number;
}

/** exact: dR/dy_i. seed_blog: the hand formula above (wrong on purpose, for the ablation row). */
export type DiscriminativeGradient = 'exact' | 'seed_blog';

export class Discriminative {
  readonly gamma: number;
  readonly gradient: DiscriminativeGradient;
  private readonly C: number; // classes
  private readonly sums: Float64Array; // [C, O] class sums, then class means m_c
  private readonly counts: Float64Array; // [C]
  private readonly mean: Float64Array; // [O] overall mean m

  constructor(gamma: number, classes: number, outputs: number, gradient: DiscriminativeGradient = 'exact') {
    this.gamma = gamma;
    this.gradient = gradient;
    this.C = classes;
    this.sums = new Float64Array(classes * outputs);
    this.counts = new Float64Array(classes);
    this.mean = new Float64Array(outputs);
  }

  /** m_c into this.sums (as means), m into this.mean, n_c into this.counts. Classes absent from the batch keep n_c = 0. */
  private classMeans(b: OutputBatch): void {
    const { Y, n, O } = b;
    const labels = b.labels;
    if (labels === null) throw new Error('the discriminative term needs class labels');
    const { sums, counts, mean } = this;
    sums.fill(0);
    counts.fill(0);
    mean.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      counts[c] += 1;
      for (let j = 0; j < O; j++) {
        sums[c * O + j] += Y[i * O + j];
        mean[j] += Y[i * O + j];
      }
    }
    for (let j = 0; j < O; j++) mean[j] /= n;
    for (let c = 0; c < this.C; c++) {
      if (counts[c] === 0) continue;
      for (let j = 0; j < O; j++) sums[c * O + j] /= counts[c];
    }
  }

  /** tr S_w and tr S_b of the batch's outputs. */
  scatter(b: OutputBatch): Scatter {
    this.classMeans(b);
    const { Y, n, O } = b;
    const labels = b.labels as Uint8Array;
    const { sums: means, counts, mean } = this;
    let trSw = 0;
    for (let i = 0; i < n; i++) {
      const mc = labels[i] * O;
      for (let j = 0; j < O; j++) {
        const r = Y[i * O + j] - means[mc + j];
        trSw += r * r;
      }
    }
    let trSb = 0;
    for (let c = 0; c < this.C; c++) {
      if (counts[c] === 0) continue;
      let s = 0;
      for (let j = 0; j < O; j++) {
        const r = means[c * O + j] - mean[j];
        s += r * r;
      }
      trSb += counts[c] * s;
    }
    return { trSw, trSb };
  }

  value(b: OutputBatch): number {
    const { trSw, trSb } = this.scatter(b);
    return 0.5 * this.gamma * (trSw - trSb);
  }

  /** dY += gamma (y_i - 2 m_c + m); with gradient 'seed_blog', the hand formula instead. */
  addGradY(dY: Vec, b: OutputBatch): void {
    this.classMeans(b);
    if (this.gradient === 'seed_blog') return this.addSeedBlogGradY(dY, b);
    const { Y, n, O } = b;
    const labels = b.labels as Uint8Array;
    const { sums: means, mean, gamma } = this;
    for (let i = 0; i < n; i++) {
      const mc = labels[i] * O;
      for (let j = 0; j < O; j++) {
        const k = i * O + j;
        dY[k] += gamma * (Y[k] - 2 * means[mc + j] + mean[j]);
      }
    }
  }

  /** dY += gamma [(y_i - m_c)(1 - 1/n_c) - (m_c - m)(1/n_c - 1/d)]: NOT the gradient of R (see the top of this file). */
  private addSeedBlogGradY(dY: Vec, b: OutputBatch): void {
    const { Y, n, O } = b;
    const labels = b.labels as Uint8Array;
    const { sums: means, counts, mean, gamma } = this;
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      const invNc = 1 / counts[c];
      for (let j = 0; j < O; j++) {
        const k = i * O + j;
        const mcj = means[c * O + j];
        dY[k] += gamma * ((Y[k] - mcj) * (1 - invNc) - (mcj - mean[j]) * (invNc - 1 / n));
      }
    }
  }
}
