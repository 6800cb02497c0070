// The optimizers. Each is a named set of state tensors, laid out like the
// parameters (so a checkpoint writes them as they are), and an update. The
// update is written twice: here, as the reference, in the precision of the
// arrays (float64 for a float64 model), and in the module for the fast pass
// (elementwise-wat.ts, called by wasm-pass.ts); a test holds the two equal
// within a derived bound. A pass runs one of them in its step().
//
// Every update starts from the batch mean of the summed objective:
//
//   g = (1/d) dE/dp            d = rows of the batch; E is summed over them
//
// This is the one place where the objective's sum becomes a batch mean.
//
// sgd: gradient descent with heavy-ball momentum mu (seed 001's update, seed
// 003's mini-batch SGD):
//   v = mu v + g               (mu = 0: plain gradient descent; v stays 0)
//   p = p - lr v
import type { Config } from '../config/schema.js';
import type { Vec } from '../kernels/matmul.js';

export interface SgdSettings {
  name: 'sgd';
  momentum: number;
}
/** An optimizer and its hyperparameters (the learning rate comes per step). */
export type OptimizerSettings = SgdSettings;
export type OptimizerName = OptimizerSettings['name'];

/** The optimizer a config asks for. */
export function optimizerSettings(cfg: Config): OptimizerSettings {
  return { name: 'sgd', momentum: cfg.training.momentum };
}

/** The names of each optimizer's state tensors (the checkpoint's tensor names). */
export const OPTIMIZER_STATE: { readonly [N in OptimizerName]: readonly string[] } = {
  sgd: ['velocity'],
};

/** State tensors by name, each laid out like the parameters. */
export type OptimizerState = Readonly<Record<string, Vec>>;

/** Zeroed state tensors of `size` values for an optimizer. */
export function newOptimizerState(settings: OptimizerSettings, size: number, Float: new (n: number) => Vec = Float32Array): Record<string, Vec> {
  return Object.fromEntries(OPTIMIZER_STATE[settings.name].map((name) => [name, new Float(size)]));
}

/** Copy every state tensor of `src` into `dst` (same optimizer, same layout). */
export function copyOptimizerState(dst: OptimizerState, src: OptimizerState): void {
  for (const name of Object.keys(dst)) dst[name].set(src[name]);
}

/** The reference update of params p from the summed gradient g of a batch of d rows. */
export function referenceStep(settings: OptimizerSettings, p: Vec, g: Vec, state: OptimizerState, lr: number, d: number): void {
  switch (settings.name) {
    case 'sgd':
      sgdStep(p, g, state.velocity, settings.momentum, lr, 1 / d);
      return;
  }
}

/** sgd on every parameter: v = mu v + scale g, p -= lr v (mu = 0: p -= (lr scale) g). */
export function sgdStep(p: Vec, g: Vec, v: Vec, mu: number, lr: number, scale: number): void {
  if (mu === 0) {
    const k = lr * scale;
    for (let i = 0; i < p.length; i++) p[i] -= k * g[i];
    return;
  }
  for (let i = 0; i < p.length; i++) {
    const vi = mu * v[i] + scale * g[i];
    v[i] = vi;
    p[i] -= lr * vi;
  }
}
