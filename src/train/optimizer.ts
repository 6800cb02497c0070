// Gradient descent with heavy-ball momentum on the flat parameter buffer
// (seed 001's update, seed 003's mini-batch SGD):
//
//   g = (1/d) dE/dp            d = rows of the batch; E is summed over them
//   v = mu v + g               (mu = 0: plain gradient descent, v = g)
//   p = p - lr v
//
// This is the one place where the objective's sum becomes a batch mean.
import type { Vec } from '../kernels/matmul.js';

export class Sgd {
  readonly momentum: number;
  readonly velocity: Float32Array; // same layout as the parameters

  constructor(size: number, momentum: number) {
    this.momentum = momentum;
    this.velocity = new Float32Array(size);
  }

  step(params: Vec, grads: Vec, lr: number, d: number): void {
    const scale = 1 / d;
    const mu = this.momentum;
    const v = this.velocity;
    if (mu === 0) {
      const k = lr * scale;
      for (let i = 0; i < params.length; i++) params[i] -= k * grads[i];
      return;
    }
    for (let i = 0; i < params.length; i++) {
      const vi = mu * v[i] + scale * grads[i];
      v[i] = vi;
      params[i] -= lr * vi;
    }
  }
}

export interface LrSchedule {
  type: 'constant' | 'step' | 'cosine';
  every: number;
  factor: number;
  warmup_steps: number;
}

/** Learning rate of epoch e (0-based) out of `epochs`. */
export function lrAt(base: number, s: LrSchedule, e: number, epochs: number): number {
  switch (s.type) {
    case 'constant':
      return base;
    case 'step': // lr * factor^floor(e / every), as PyTorch's StepLR
      return base * Math.pow(s.factor, Math.floor(e / s.every));
    case 'cosine': // from lr down towards 0 over the run, as CosineAnnealingLR with T_max = epochs
      return 0.5 * base * (1 + Math.cos((Math.PI * e) / epochs));
  }
}

/**
 * Linear warm-up factor of step t (0-based, counted over the whole run):
 * (t + 1) / warmupSteps, capped at 1. Without it, a large lr with momentum
 * drives every sigmoid output towards 0 in the first steps (all targets but
 * one are 0), where y(1 - y) ~ 0 and training stalls at E = 1/2 per sample.
 * Saturation is a matter of steps, not epochs, hence the unit.
 */
export function warmupFactor(warmupSteps: number, t: number): number {
  return warmupSteps > 0 ? Math.min(1, (t + 1) / warmupSteps) : 1;
}
