// The optimizers. Each is a named set of state tensors, laid out like the
// parameters (so a checkpoint writes them as they are), a named set of state
// scalars (saved by name in the checkpoint's metadata), and an update. The
// update is written twice: here, as the reference, in the precision of the
// arrays (float64 for a float64 model), and in the module for the fast pass
// (optimizers-wat.ts, run by wasm-step.ts); a test holds the two equal
// within a derived bound. A pass runs one of them in its step().
//
// Every update starts from the batch mean of the summed objective:
//
//   g = (1/d) dE/dp            d = rows of the batch; E is summed over them
//
// This is the one place where the objective's sum becomes a batch mean. A
// step also knows t, its 1-based number in the run (from the trainer's
// position: a resumed run counts on), the rate lr of the schedule, and E.
//
// sgd: gradient descent with heavy-ball momentum mu (seed 001's update, seed
// 003's mini-batch SGD):
//   v = mu v + g               (mu = 0: plain gradient descent; v stays 0)
//   p = p - lr v
//
// nesterov: PyTorch's SGD(momentum=mu, nesterov=True) (Sutskever et al. 2013,
// in the form of Bengio et al.): the step looks ahead along the new velocity
//   v = mu v + g
//   p = p - lr (g + mu v)
//
// adam (Kingma & Ba 2015, as torch.optim.Adam), lr the step size alpha:
//   m = b1 m + (1 - b1) g              v = b2 v + (1 - b2) g^2
//   p = p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// adamw (Loshchilov & Hutter 2019, as torch.optim.AdamW): first the decoupled
// decay of the weights (not the biases, like regularization.l2; PyTorch
// decays every parameter of a group, so its biases go in a group without),
//   W = W (1 - lr weight_decay)
// then adam's update of every parameter.
//
// rprop (Riedmiller & Braun 1993; iRprop- and iRprop+ of Igel & Huesken
// 2000): a step size Delta per parameter, moved by the sign of g only (so
// 1/d and lr do not matter). With s = sign(g) and c = s * s_prev:
//   c > 0: Delta = min(Delta eta_plus, step_max);  dp = -s Delta
//   c < 0: Delta = max(Delta eta_minus, step_min); dp = 0, and s is stored as
//          0 so the next step takes the c = 0 branch; iRprop+ instead takes
//          back the last move, dp = -dp_prev, if E rose: E(t) > E(t-1)
//   c = 0: dp = -s Delta
//   p = p + dp;  s_prev = s (0 after a sign change);  dp_prev = dp
// Delta starts at step_init. PyTorch's Rprop is iRprop- (its update zeroes
// the gradient after a sign change and skips the step); it keeps the previous
// gradient where this keeps its sign, which is all the rule reads, and it
// clamps Delta to [step_min, step_max] in the c = 0 branch too, which changes
// nothing here: step_init outside those bounds is refused by the config.
import type { Config } from '../config/schema.js';
import type { Vec } from '../kernels/matmul.js';

export interface SgdSettings {
  name: 'sgd';
  momentum: number;
}
export interface NesterovSettings {
  name: 'nesterov';
  momentum: number;
}
export interface AdamSettings {
  name: 'adam';
  beta1: number;
  beta2: number;
  eps: number;
}
export interface AdamWSettings extends Omit<AdamSettings, 'name'> {
  name: 'adamw';
  weight_decay: number;
}
export interface RpropSettings {
  name: 'rprop';
  eta_minus: number;
  eta_plus: number;
  step_init: number;
  step_min: number;
  step_max: number;
  variant: 'irprop-' | 'irprop+';
}
/** An optimizer and its hyperparameters (the learning rate comes per step). */
export type OptimizerSettings = SgdSettings | NesterovSettings | AdamSettings | AdamWSettings | RpropSettings;
export type OptimizerName = OptimizerSettings['name'];

/** The optimizer a config asks for. */
export function optimizerSettings(cfg: Config): OptimizerSettings {
  const t = cfg.training;
  switch (t.optimizer) {
    case 'sgd':
    case 'nesterov':
      return { name: t.optimizer, momentum: t.momentum };
    case 'adam':
      return { name: 'adam', beta1: t.adam.beta1, beta2: t.adam.beta2, eps: t.adam.eps };
    case 'adamw':
      return { name: 'adamw', beta1: t.adamw.beta1, beta2: t.adamw.beta2, eps: t.adamw.eps, weight_decay: t.adamw.weight_decay };
    case 'rprop': {
      const r = t.rprop;
      return { name: 'rprop', eta_minus: r.eta_minus, eta_plus: r.eta_plus, step_init: r.step_init, step_min: r.step_min, step_max: r.step_max, variant: r.variant };
    }
  }
}

/** The names of each optimizer's state tensors (the checkpoint's tensor names). */
export const OPTIMIZER_STATE: { readonly [N in OptimizerName]: readonly string[] } = {
  sgd: ['velocity'],
  nesterov: ['velocity'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
  rprop: ['prev_sign', 'step_size', 'prev_delta'],
};

/**
 * The names of each optimizer's state scalars (saved by name in the
 * checkpoint's metadata). Each starts at 0. rprop's prev_loss is E of the
 * last step, for iRprop+; its first value is never read (the first step has
 * no sign change).
 */
export const OPTIMIZER_SCALARS: { readonly [N in OptimizerName]: readonly string[] } = {
  sgd: [],
  nesterov: [],
  adam: [],
  adamw: [],
  rprop: ['prev_loss'],
};

/** State tensors by name, each laid out like the parameters. */
export type OptimizerState = Readonly<Record<string, Vec>>;
/** State scalars by name (one copy: no layout to translate). */
export type OptimizerScalars = Record<string, number>;

/** The value every entry of a state tensor starts at: rprop's step sizes at step_init, all else 0. */
function initialValue(settings: OptimizerSettings, tensor: string): number {
  return settings.name === 'rprop' && tensor === 'step_size' ? settings.step_init : 0;
}

/** Fresh state tensors of `size` values for an optimizer. */
export function newOptimizerState(settings: OptimizerSettings, size: number, Float: new (n: number) => Vec = Float32Array): Record<string, Vec> {
  return Object.fromEntries(OPTIMIZER_STATE[settings.name].map((name) => [name, new Float(size).fill(initialValue(settings, name))]));
}

/** Fresh state scalars for an optimizer. */
export function newOptimizerScalars(settings: OptimizerSettings): OptimizerScalars {
  return Object.fromEntries(OPTIMIZER_SCALARS[settings.name].map((name) => [name, 0]));
}

/** Copy every state tensor of `src` into `dst` (same optimizer, same layout). */
export function copyOptimizerState(dst: OptimizerState, src: OptimizerState): void {
  for (const name of Object.keys(dst)) dst[name].set(src[name]);
}

/** Copy every state scalar of `dst` from `src` (same optimizer). */
export function copyOptimizerScalars(dst: OptimizerScalars, src: Readonly<OptimizerScalars>): void {
  for (const name of Object.keys(dst)) dst[name] = src[name];
}

/** What a step knows besides the gradient. */
export interface StepInputs {
  /** The schedule's rate at this step (rprop does not use it). */
  lr: number;
  /** Rows of the batch: g = (1/d) dE/dp. */
  d: number;
  /** The step's 1-based number in the run (adam's bias correction). */
  t: number;
  /** E of the batch at the parameters before the step (iRprop+). */
  loss: number;
}

/** What an update works on: parameters p, the summed gradient dE/dp (same layout), and the weights' views into p (adamw decays them, not the biases). */
export interface StepOperands {
  p: Vec;
  g: Vec;
  weights: readonly Vec[];
}

/** The reference update of the parameters from the summed gradient of a batch. */
export function referenceStep(settings: OptimizerSettings, x: StepOperands, state: OptimizerState, scalars: OptimizerScalars, s: StepInputs): void {
  const { p, g } = x;
  switch (settings.name) {
    case 'sgd':
      sgdStep(p, g, state.velocity, settings.momentum, s.lr, 1 / s.d);
      return;
    case 'nesterov':
      nesterovStep(p, g, state.velocity, settings.momentum, s.lr, 1 / s.d);
      return;
    case 'adamw':
      for (const W of x.weights) scaleElements(W, 1 - s.lr * settings.weight_decay);
      adamStep(p, g, state.exp_avg, state.exp_avg_sq, settings, adamFactors(settings, s), 1 / s.d);
      return;
    case 'adam':
      adamStep(p, g, state.exp_avg, state.exp_avg_sq, settings, adamFactors(settings, s), 1 / s.d);
      return;
    case 'rprop':
      rpropStep(p, g, state.prev_sign, state.step_size, state.prev_delta, settings, rpropBacktracks(settings, scalars, s.loss));
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

/** Nesterov momentum on every parameter: v = mu v + scale g, p -= lr (scale g + mu v). */
export function nesterovStep(p: Vec, g: Vec, v: Vec, mu: number, lr: number, scale: number): void {
  for (let i = 0; i < p.length; i++) {
    const gi = scale * g[i];
    const vi = mu * v[i] + gi;
    v[i] = vi;
    p[i] -= lr * (gi + mu * vi);
  }
}

/** x *= factor (adamw's decay of the weights). */
export function scaleElements(x: Vec, factor: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= factor;
}

/** Adam's step size alpha = lr / (1 - b1^t) and bias correction sqrt(1 - b2^t) of step t, as PyTorch computes them (float64). */
export function adamFactors(o: { beta1: number; beta2: number }, s: { lr: number; t: number }): { alpha: number; bc2: number } {
  return { alpha: s.lr / (1 - o.beta1 ** s.t), bc2: Math.sqrt(1 - o.beta2 ** s.t) };
}

/** Adam on every parameter: m, v the running means of g and g^2; p -= alpha m / (sqrt(v) / bc2 + eps). */
export function adamStep(p: Vec, g: Vec, m: Vec, v: Vec, o: { beta1: number; beta2: number; eps: number }, f: { alpha: number; bc2: number }, scale: number): void {
  const { beta1, beta2, eps } = o;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (let i = 0; i < p.length; i++) {
    const gi = scale * g[i];
    const mi = beta1 * m[i] + c1 * gi;
    const vi = beta2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= (f.alpha * mi) / (Math.sqrt(vi) / f.bc2 + eps);
  }
}

/**
 * Whether iRprop+ takes back its last moves this step (E rose: E(t) >
 * E(t-1)); records E(t) for the next step. Always false for iRprop-.
 */
export function rpropBacktracks(o: RpropSettings, scalars: OptimizerScalars, loss: number): boolean {
  const rose = loss > scalars.prev_loss;
  scalars.prev_loss = loss;
  return o.variant === 'irprop+' && rose;
}

/**
 * Rprop on every parameter (the rule at the top): sign = s_prev, step =
 * Delta, delta = dp_prev; `backtrack`: a sign change takes back the last move.
 */
export function rpropStep(p: Vec, g: Vec, sign: Vec, step: Vec, delta: Vec, o: RpropSettings, backtrack: boolean): void {
  for (let i = 0; i < p.length; i++) {
    const s = g[i] > 0 ? 1 : g[i] < 0 ? -1 : 0;
    const c = s * sign[i];
    let size = step[i];
    if (c > 0) size = Math.min(size * o.eta_plus, o.step_max);
    else if (c < 0) size = Math.max(size * o.eta_minus, o.step_min);
    const move = c < 0 ? (backtrack ? -delta[i] : 0) : -(s * size);
    p[i] += move;
    sign[i] = c < 0 ? 0 : s;
    step[i] = size;
    delta[i] = move;
  }
}

/** The optimizer in a few words for logs and tables, e.g. `adam (beta1 0.9, beta2 0.999, eps 1e-8)`. */
export function describeOptimizer(o: OptimizerSettings): string {
  switch (o.name) {
    case 'sgd':
    case 'nesterov':
      return `${o.name}, momentum ${o.momentum}`;
    case 'adam':
      return `adam (beta1 ${o.beta1}, beta2 ${o.beta2}, eps ${o.eps})`;
    case 'adamw':
      return `adamw (beta1 ${o.beta1}, beta2 ${o.beta2}, eps ${o.eps}, weight_decay ${o.weight_decay})`;
    case 'rprop':
      return `rprop ${o.variant} (first step ${o.step_init}, steps in [${o.step_min}, ${o.step_max}], eta ${o.eta_minus}/${o.eta_plus})`;
  }
}
