// The optimizers' updates in the module (src/kernels/wasm/optimizers-wat.ts,
// run by WasmPass.step) against the float64 reference updates of
// src/model/optimizer.ts: from the same float32 parameters, state and summed
// gradient, one step must give the same parameters and state within a bound
// derived per element from float32 rounding (u = 2^-24), and any thread
// split must give the same bits. (sgd's test is in test/model/wasm-pass.test.ts.)
import { describe, expect, it } from 'vitest';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { Mlp, views, type LayerSlot } from '../../src/model/mlp.js';
import {
  adamFactors, newOptimizerScalars, newOptimizerState, OPTIMIZER_STATE, referenceStep,
  type AdamSettings, type AdamWSettings, type NesterovSettings, type OptimizerSettings, type RpropSettings, type StepInputs,
} from '../../src/model/optimizer.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { Rng } from '../../src/rng.js';
import { expectSameBitsOnThreads } from '../helpers/threads.js';

const rt = wasmRuntime().runtime!;
const u = 2 ** -24;
/** A panelled layer 0 with padding (17 outputs), a narrow last layer: every part of the working layout. */
const LAYERS = [20, 17, 9, 10];

interface Start {
  model: Mlp;
  params: Float32Array;
  grads: Float32Array; // summed over d rows
  state: Record<string, Float32Array>;
}

/** Random parameters, gradient (a fifth exact zeros) and state fit for the optimizer. */
function start(o: OptimizerSettings, layers: number[], d: number, seed: number): Start {
  const model = new Mlp({ layers, hidden: 'sigmoid', output: 'sigmoid' });
  const P = model.params.length;
  const rng = new Rng(seed, 2);
  const uni = (): number => rng.uniform() - 0.5;
  const params = new Float32Array(P).map(uni);
  const grads = new Float32Array(P).map(() => (rng.uniform() < 0.2 ? 0 : d * uni()));
  const state = newOptimizerState(o, P) as Record<string, Float32Array>;
  const fill: Record<string, () => number> = {
    velocity: () => 0.5 * uni(),
    exp_avg: () => 0.1 * uni(),
    exp_avg_sq: () => 0.01 * rng.uniform() ** 2,
    prev_sign: () => Math.floor(3 * rng.uniform()) - 1,
  };
  if (o.name === 'rprop') {
    // step sizes log-uniform over [step_min, step_max], some at either end; last moves of that size
    const ratio = o.step_max / o.step_min;
    fill.step_size = () => Math.min(o.step_max, Math.max(o.step_min, o.step_min * ratio ** (1.2 * rng.uniform() - 0.1)));
    fill.prev_delta = () => 0.5 * o.step_max * uni();
  }
  for (const name of OPTIMIZER_STATE[o.name]) state[name].forEach((_, i, a) => (a[i] = fill[name]()));
  return { model, params, grads, state };
}

interface After {
  p: ArrayLike<number>;
  state: Record<string, ArrayLike<number>>;
}

/** One step on the fast pass, from the canonical start; the result in the canonical layout. */
function fastStep(o: OptimizerSettings, st: Start, s: StepInputs, prevLoss = 0): After {
  const wp = new WasmPass(st.model, rt, { capacity: 4, optimizer: o });
  wp.load(st.params, st.state);
  if ('prev_loss' in wp.scalars) wp.scalars.prev_loss = prevLoss;
  wp.layout.toWorking(wp.grads, st.grads); // its padding stays 0
  wp.step(s);
  const p = new Float32Array(st.params.length);
  const state = newOptimizerState(o, p.length) as Record<string, Float32Array>;
  wp.store(p, state);
  wp.dispose();
  return { p, state };
}

/** The same step by the float64 reference. */
function referenceFrom(o: OptimizerSettings, st: Start, s: StepInputs, prevLoss = 0): After {
  const p = Float64Array.from(st.params);
  const state = Object.fromEntries(Object.entries(st.state).map(([n, t]) => [n, Float64Array.from(t)]));
  const scalars = newOptimizerScalars(o);
  if ('prev_loss' in scalars) scalars.prev_loss = prevLoss;
  referenceStep(o, { p, g: Float64Array.from(st.grads), weights: views(p, st.model.slots as LayerSlot[]).W }, state, scalars, s);
  return { p, state };
}

/** Every |got - want| within its bound; the largest bound, for the "a step is far above it" check. */
function within(label: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number): number {
  let most = 0;
  for (let i = 0; i < want.length; i++) {
    const b = bound(i);
    most = Math.max(most, b);
    if (!(Math.abs(got[i] - want[i]) <= b)) expect.fail(`${label}[${i}]: ${got[i]} vs ${want[i]}, more than ${b} apart`);
  }
  return most;
}

/** The reference step moved the parameters by far more than the bound: the comparison tells a step from none. */
function expectRealStep(st: Start, ref: After, pBound: number): void {
  let moved = 0;
  for (let i = 0; i < ref.p.length; i++) moved = Math.max(moved, Math.abs(ref.p[i] - st.params[i]));
  expect(moved).toBeGreaterThan(100 * pBound);
}

// Every float argument enters the module rounded to float32 (mu, 1/d, lr, the betas and 1 - beta,
// alpha, the bias correction, eps, the etas and step bounds): a relative error of u each; every
// float32 operation adds u of its result. Bounds to first order, with a u or two to spare for the
// second order.
describe('the module updates against the float64 reference, one step', () => {
  // nesterov: g = fl(fl(1/d) G) is within 2u|g|. v = fl(fl(mu v0) + g): 2u mu|v0| + 2u|g| + u|v|,
  // within 4u (mu|v0| + |g|) =: vB. The step g + fl(mu v) adds mu vB + 3u (|g| + mu|v|), lr and the
  // product 2u of it, and the subtraction u |p|: p within lr mu vB + 7u (lr (|g| + mu|v|) + |p0|).
  it.each<[NesterovSettings, number, number]>([
    [{ name: 'nesterov', momentum: 0.9 }, 0.3, 7],
    [{ name: 'nesterov', momentum: 0.5 }, 0.05, 1],
    [{ name: 'nesterov', momentum: 0.99 }, 2.5, 1000],
  ])('%j, lr %f, d %i', (o, lr, d) => {
    const st = start(o, LAYERS, d, 1);
    const s = { lr, d, t: 1, loss: 0 };
    const fast = fastStep(o, st, s);
    const ref = referenceFrom(o, st, s);
    const mu = o.momentum;
    const g = (i: number): number => Math.abs(st.grads[i]) / d;
    const vB = (i: number): number => 4 * u * (mu * Math.abs(st.state.velocity[i]) + g(i));
    within('velocity', fast.state.velocity, ref.state.velocity, vB);
    const pB = within('params', fast.p, ref.p, (i) => lr * mu * vB(i) + 7 * u * (lr * (g(i) + mu * Math.abs(ref.state.velocity[i])) + Math.abs(st.params[i])));
    expectRealStep(st, ref, pB);
  });

  // adam: g within 2u|g|. m = fl(fl(b1 m0) + fl(fl(c1) g)): 2u b1|m0| + 4u c1|g| + u|m|, within
  // 6u (b1|m0| + c1|g|) =: mB. v = fl(fl(b2 v0) + fl(fl(c2 g) g)): every term >= 0, so relative:
  // 2u and 7u (c2, two products, g twice) and the sum u: within 9u v. The denominator sqrt(v) / bc2
  // + eps: half of v's 9u, the sqrt u, bc2 and the division 2u, eps and the sum u (both >= 0):
  // relative 9u. The step r = fl(fl(alpha m) / den): alpha mB / den + (2u + 9u + u) |r|. p - r:
  // u |p|; adamw's decay fl(p fl(1 - lr wd)) first adds 2u |p0|. So p within
  // alpha mB / den + 13u |r| + 3u |p0|, with r, den from the reference.
  it.each<[AdamSettings | AdamWSettings, number, number, number]>([
    [{ name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.001, 7, 1],
    [{ name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 0.01, 100, 50],
    [{ name: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-6 }, 0.003, 1, 3],
    [{ name: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }, 0.001, 7, 1],
    [{ name: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.5 }, 0.05, 60000, 20],
  ])('%j, lr %f, d %i, step %i', (o, lr, d, t) => {
    const st = start(o, LAYERS, d, 2);
    const s = { lr, d, t, loss: 0 };
    const fast = fastStep(o, st, s);
    const ref = referenceFrom(o, st, s);
    const { alpha, bc2 } = adamFactors(o, s);
    const g = (i: number): number => Math.abs(st.grads[i]) / d;
    const mB = (i: number): number => 6 * u * (o.beta1 * Math.abs(st.state.exp_avg[i]) + (1 - o.beta1) * g(i));
    within('exp_avg', fast.state.exp_avg, ref.state.exp_avg, mB);
    within('exp_avg_sq', fast.state.exp_avg_sq, ref.state.exp_avg_sq, (i) => 9 * u * ref.state.exp_avg_sq[i]);
    const pB = within('params', fast.p, ref.p, (i) => {
      const den = Math.sqrt(ref.state.exp_avg_sq[i]) / bc2 + o.eps;
      const r = (alpha * Math.abs(ref.state.exp_avg[i])) / den;
      return (alpha * mB(i)) / den + 13 * u * r + 3 * u * Math.abs(st.params[i]);
    });
    expectRealStep(st, ref, pB); // (a decayed bias, lr wd |p| = 0.025 |p| off, would fail it too)
  });

  // rprop: the branch is the same on both sides (the signs are exact). A new step size is one
  // rounded product, fl(Delta fl(eta)) (2u), or the float32 bound (u): within 3u Delta (min and max
  // move their result by no more than they move their arguments); a kept step size is exact. The
  // move is -s Delta (exact given Delta) or 0 or -dp_prev (exact), p + move rounds u: p within
  // 3u Delta + u (|p0| + |move|) where the step changed, u (|p0| + |move|) where it did not.
  const RPROP: RpropSettings = { name: 'rprop', eta_minus: 0.5, eta_plus: 1.2, step_init: 0.01, step_min: 1e-3, step_max: 0.5, variant: 'irprop-' };
  it.each<[string, RpropSettings, number, number]>([
    ['irprop-', RPROP, 100, 99],
    ['irprop+ after E rose: backtracks', { ...RPROP, variant: 'irprop+' }, 100, 99],
    ['irprop+ after E fell: no backtrack', { ...RPROP, variant: 'irprop+' }, 100, 101],
    ['PyTorch default bounds', { ...RPROP, step_min: 1e-6, step_max: 50 }, 5, 6],
  ])('rprop %s', (_, o, loss, prevLoss) => {
    const d = 60000;
    const st = start(o, LAYERS, d, 3);
    const s = { lr: 0.1, d, t: 2, loss };
    const fast = fastStep(o, st, s, prevLoss);
    const ref = referenceFrom(o, st, s, prevLoss);
    const c = (i: number): number => Math.sign(st.grads[i]) * st.state.prev_sign[i];
    const sizeB = (i: number): number => (c(i) === 0 ? 0 : 3 * u * ref.state.step_size[i]);
    expect(Array.from(fast.state.prev_sign)).toEqual(Array.from(ref.state.prev_sign, (x) => x + 0));
    within('step_size', fast.state.step_size, ref.state.step_size, sizeB);
    within('prev_delta', fast.state.prev_delta, ref.state.prev_delta, (i) => (c(i) < 0 ? 0 : sizeB(i)));
    const pB = within('params', fast.p, ref.p, (i) => sizeB(i) + u * (Math.abs(st.params[i]) + Math.abs(ref.state.prev_delta[i])));
    expectRealStep(st, ref, pB);
    // every branch was taken: grow, shrink, keep; and a backtrack moved p by -dp_prev
    const cs = Array.from(st.grads, (_, i) => c(i));
    for (const branch of [1, -1, 0]) expect(cs.filter((x) => x === branch).length).toBeGreaterThan(20);
    const backtracked = cs.filter((x, i) => x < 0 && ref.state.prev_delta[i] !== 0).length;
    expect(backtracked > 0).toBe(o.variant === 'irprop+' && loss > prevLoss);
  });
});

describe('the module updates give the same bits on 1 and 2 threads', () => {
  it.each<OptimizerSettings>([
    { name: 'nesterov', momentum: 0.9 },
    { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    { name: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1 },
    { name: 'rprop', eta_minus: 0.5, eta_plus: 1.2, step_init: 0.01, step_min: 1e-6, step_max: 50, variant: 'irprop+' },
  ])('%j on 784-300-10 (the update split over the threads)', (o) => {
    const st = start(o, [784, 300, 10], 100, 4);
    const s = { lr: 0.01, d: 100, t: 5, loss: 2 };
    const run = (threads: number): Float32Array[] => {
      rt.setThreads(threads);
      const r = fastStep(o, st, s, 1);
      return [r.p, ...Object.values(r.state)] as Float32Array[];
    };
    expectSameBitsOnThreads((t) => rt.setThreads(t), run);
  });
});
