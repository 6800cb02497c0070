// Naming the likely cause of a diverged run in its one-line error.
import type { Config } from '../config/schema.js';

/**
 * Why a step at `rate` (the epoch's `lr` after warm-up) on d samples
 * diverged, most likely. The regularizers' gradients scale with their
 * coefficients: l2 adds lambda W to dE/dW, so a step moves W by
 * rate lambda / d times itself (beyond 1 it overshoots zero and grows); the
 * discriminative term's gradient on the outputs is gamma (y - 2 m_c + m), so
 * rate gamma / d is its step. A term whose step factor is over 1 is named;
 * otherwise it is the learning rate.
 */
export function divergenceCause(reg: Config['regularization'], lr: number, rate: number, d: number): string {
  const terms: Array<[string, string, number]> = [
    ['regularization.l2', 'l2', reg.l2],
    ['regularization.discriminative', 'gamma', reg.discriminative],
  ];
  const [key, symbol, value] = terms.reduce((a, b) => (b[2] > a[2] ? b : a));
  const factor = (rate * value) / d;
  if (factor > 1) return `${key} ${value} is likely too large: the step's lr*${symbol}/batch is ${factor.toPrecision(3)}, keep it below 1`;
  return `the learning rate ${lr} is likely too large`;
}
