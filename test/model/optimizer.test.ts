// The reference updates of src/model/optimizer.ts: steps worked out by hand
// on 3 parameters, then PyTorch's own optimizers in float64 on a small
// problem (test/fixtures/optimizers_torch.json, from
// scripts/optimizer_reference.py), and the config -> settings mapping.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import {
  newOptimizerScalars, newOptimizerState, optimizerSettings, referenceStep,
  type OptimizerSettings, type RpropSettings,
} from '../../src/model/optimizer.js';
import { ROOT } from '../helpers/cli.js';

/** |a - b| <= atol + rtol |b| for every entry, with the index in the message. */
function expectNear(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol = 0): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) expect.fail(`${label}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/**
 * Steps of an optimizer on params p0, the summed gradients Gs of batches of d
 * rows and objective values Es; the weights are p[0..2) (p[2] is a bias).
 * Returns the parameters, state and scalars after each step.
 */
function steps(o: OptimizerSettings, p0: number[], Gs: number[][], opts: { lr: number; d: number; Es?: number[] }) {
  const p = Float64Array.from(p0);
  const state = newOptimizerState(o, p.length, Float64Array);
  const scalars = newOptimizerScalars(o);
  const after: Array<{ p: number[]; state: Record<string, number[]>; scalars: Record<string, number> }> = [];
  Gs.forEach((G, k) => {
    const s = { lr: opts.lr, d: opts.d, t: k + 1, loss: opts.Es?.[k] ?? 0 };
    referenceStep(o, { p, g: Float64Array.from(G), weights: [p.subarray(0, 2)] }, state, scalars, s);
    after.push({ p: Array.from(p), state: Object.fromEntries(Object.entries(state).map(([n, t]) => [n, Array.from(t)])), scalars: { ...scalars } });
  });
  return after;
}

// Hand-computed values are decimal numbers of order 1 reached in a few float64
// operations (about 1e-16 relative each): 1e-14 relative.
const HAND = 1e-14;
const P0 = [1, -2, 0.5];
// d = 2 rows: g = G/2 = [1, -2, 0], then [2, 1, -1]
const G2 = [[2, -4, 0], [4, 2, -2]];

describe('reference updates, worked by hand (3 parameters, g = G/d with d = 2)', () => {
  it('sgd, momentum 0.5, lr 0.1: v = mu v + g, p -= lr v', () => {
    // step 1: v = [1, -2, 0]                                p = [1 - 0.1, -2 + 0.2, 0.5]   = [0.9, -1.8, 0.5]
    // step 2: v = 0.5 [1, -2, 0] + [2, 1, -1] = [2.5, 0, -1]  p = [0.9 - 0.25, -1.8, 0.5 + 0.1] = [0.65, -1.8, 0.6]
    const r = steps({ name: 'sgd', momentum: 0.5 }, P0, G2, { lr: 0.1, d: 2 });
    expectNear('p1', r[0].p, [0.9, -1.8, 0.5], HAND);
    expectNear('v1', r[0].state.velocity, [1, -2, 0], HAND);
    expectNear('p2', r[1].p, [0.65, -1.8, 0.6], HAND);
    expectNear('v2', r[1].state.velocity, [2.5, 0, -1], HAND);
  });

  it('nesterov, momentum 0.5, lr 0.1: v = mu v + g, p -= lr (g + mu v)', () => {
    // step 1: v = [1, -2, 0], g + mu v = [1.5, -3, 0]             p = [1 - 0.15, -2 + 0.3, 0.5]          = [0.85, -1.7, 0.5]
    // step 2: v = [2.5, 0, -1], g + mu v = [3.25, 1, -1.5]        p = [0.85 - 0.325, -1.7 - 0.1, 0.5 + 0.15] = [0.525, -1.8, 0.65]
    const r = steps({ name: 'nesterov', momentum: 0.5 }, P0, G2, { lr: 0.1, d: 2 });
    expectNear('p1', r[0].p, [0.85, -1.7, 0.5], HAND);
    expectNear('v1', r[0].state.velocity, [1, -2, 0], HAND);
    expectNear('p2', r[1].p, [0.525, -1.8, 0.65], HAND);
    expectNear('v2', r[1].state.velocity, [2.5, 0, -1], HAND);
  });

  // adam, beta1 0.9, beta2 0.999, eps 1e-8, lr 0.1 (values to 19 digits by a 40-digit decimal calculator):
  // step 1: m = 0.1 g = [0.1, -0.2, 0], v = 0.001 g^2 = [0.001, 0.004, 0]; alpha = 0.1 / (1 - 0.9) = 1,
  //   bc2 = sqrt(0.001), so the denominator is |g| + eps = [1.00000001, 2.00000001, 1e-8]: a step of
  //   about lr in the direction of -g, and none where g = 0 (m = 0):
  //   p = [1 - 0.1/1.00000001, -2 + 0.2/2.00000001, 0.5] = [0.900000000999999990, -1.90000000049999999750, 0.5]
  // step 2: m = 0.9 m + 0.1 [2, 1, -1] = [0.29, -0.08, -0.1]; v = 0.999 v + 0.001 [4, 1, 1] = [0.004999, 0.004996, 0.001];
  //   alpha = 0.1 / (1 - 0.81) = 0.526315789473684210526, bc2 = sqrt(1 - 0.998001) = sqrt(0.001999);
  //   sqrt(v) / bc2 + eps = [1.58137611175049559489, 1.58090153280665673445, 0.707283634200738345946];
  //   alpha m / that = [0.0965182019718343498145, -0.0266337037975686396580, -0.0744136813045934861145];
  //   p = [0.803481799028165640185, -1.87336629670243135784, 0.574413681304593486115]
  it('adam, beta1 0.9, beta2 0.999, eps 1e-8, lr 0.1: the bias-corrected first step is about lr sign(g)', () => {
    const r = steps({ name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, P0, G2, { lr: 0.1, d: 2 });
    expectNear('p1', r[0].p, [0.90000000099999999, -1.9000000004999999975, 0.5], HAND);
    expectNear('m1', r[0].state.exp_avg, [0.1, -0.2, 0], HAND);
    expectNear('v1', r[0].state.exp_avg_sq, [0.001, 0.004, 0], HAND);
    expectNear('p2', r[1].p, [0.803481799028165640185, -1.87336629670243135784, 0.574413681304593486115], HAND);
    expectNear('m2', r[1].state.exp_avg, [0.29, -0.08, -0.1], HAND);
    expectNear('v2', r[1].state.exp_avg_sq, [0.004999, 0.004996, 0.001], HAND);
  });

  // adamw, the same with weight_decay 0.1: before each step the weights p[0], p[1] (not the bias
  // p[2]) are multiplied by 1 - lr weight_decay = 0.99; m and v are adam's, so the steps are too:
  // step 1: [0.99, -1.98] - [0.099999999000000010, -0.099999999500000002] -> p = [0.890000000999999990, -1.88000000049999999750, 0.5]
  // step 2: 0.99 p = [0.881100000989999990, -1.86120000049499999753]; minus adam's step 2 ->
  //   p = [0.784581799018165640285, -1.83456629669743135787, 0.574413681304593486115]
  it('adamw, weight_decay 0.1: the decoupled decay moves the weights only', () => {
    const r = steps({ name: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.1 }, P0, G2, { lr: 0.1, d: 2 });
    expectNear('p1', r[0].p, [0.89000000099999999, -1.8800000004999999975, 0.5], HAND);
    expectNear('p2', r[1].p, [0.784581799018165640285, -1.83456629669743135787, 0.574413681304593486115], HAND);
    expectNear('m2', r[1].state.exp_avg, [0.29, -0.08, -0.1], HAND);
  });

  // rprop, eta 0.5/1.2, first step 0.1, steps in [0.06, 0.15]; d = 4 (only signs matter);
  // E = 10, 11, 9, 8: E rose at step 2 only.
  //   g signs:  step 1 [+, -, 0]   step 2 [+, +, +]   step 3 [+, -, -]   step 4 [+, -, +]
  // step 1: no previous sign (c = 0): Delta = 0.1 each; dp = -s Delta = [-0.1, +0.1, 0]      -> p = [0.9, -1.9, 0.5]
  // step 2: c = [+1, -1, 0]: p0 grows, Delta = 0.12, dp = -0.12; p1 changed sign, Delta = max(0.05, 0.06) = 0.06
  //         (step_min), dp = 0 (irprop-) or, as E rose, -dp_prev = -0.1 (irprop+), and its sign is stored as 0;
  //         p2 first sign: Delta = 0.1, dp = -0.1                  -> p = [0.78, -1.9 | -2.0, 0.4]
  // step 3: c = [+1, 0, -1]: p0 Delta = 0.144, dp = -0.144; p1 (sign 0) Delta = 0.06, dp = +0.06;
  //         p2 changed sign: Delta = max(0.05, 0.06) = 0.06, dp = 0 (E fell: no backtrack)
  //                                                                 -> p = [0.636, -1.84 | -1.94, 0.4]
  // step 4: c = [+1, +1, 0]: p0 Delta = min(0.1728, 0.15) = 0.15 (step_max), dp = -0.15; p1 Delta = 0.072,
  //         dp = +0.072; p2 (sign 0) Delta = 0.06, dp = -0.06       -> p = [0.486, -1.768 | -1.868, 0.34]
  const RPROP: RpropSettings = { name: 'rprop', eta_minus: 0.5, eta_plus: 1.2, step_init: 0.1, step_min: 0.06, step_max: 0.15, variant: 'irprop-' };
  const GR = [[4, -8, 0], [1, 2, 3], [2, -1, -5], [3, -6, 1]];
  const ES = [10, 11, 9, 8];

  it.each([
    ['irprop-', [[0.9, -1.9, 0.5], [0.78, -1.9, 0.4], [0.636, -1.84, 0.4], [0.486, -1.768, 0.34]]],
    ['irprop+', [[0.9, -1.9, 0.5], [0.78, -2.0, 0.4], [0.636, -1.94, 0.4], [0.486, -1.868, 0.34]]],
  ] as const)('rprop %s: steps grow, shrink and clamp; a sign change skips a step (irprop+: undoes it if E rose)', (variant, ps) => {
    const r = steps({ ...RPROP, variant }, P0, GR, { lr: 123, d: 4, Es: ES });
    ps.forEach((p, k) => expectNear(`p${k + 1}`, r[k].p, p, HAND));
    expectNear('step sizes 2', r[1].state.step_size, [0.12, 0.06, 0.1], HAND);
    expectNear('step sizes 4', r[3].state.step_size, [0.15, 0.072, 0.06], HAND);
    expect(r[1].state.prev_sign).toEqual([1, 0, 1]); // the changed sign is stored as 0
    expect(r[2].state.prev_sign).toEqual([1, -1, 0]);
    expectNear('last moves 2', r[1].state.prev_delta, [-0.12, variant === 'irprop+' ? -0.1 : 0, -0.1], HAND);
    expect(r[3].scalars).toEqual({ prev_loss: 8 });
  });
});

interface TorchCase {
  settings: OptimizerSettings;
  lr: number;
  steps: Array<{ grad: number[]; params: number[]; state: Record<string, number[]> }>;
}
const torch = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/optimizers_torch.json'), 'utf8')) as {
  torch: string;
  problem: { params: number[]; weights: [number, number]; steps: number };
  optimizers: Record<string, TorchCase>;
};

describe(`reference updates against PyTorch ${torch.torch} in float64 (scripts/optimizer_reference.py)`, () => {
  // Both sides compute the same float64 operations in nearly the same order (PyTorch may fuse a
  // multiply-add, and x ** t is pow in both); over 8 steps the parameters and states agree to a few
  // ulp: 1e-12 relative. The gradients are PyTorch's, fed as G = 4 g with d = 4 (exact in binary),
  // so the 1/d scaling is in the comparison too. 1e-15 absolute for state entries that cancel to
  // near 0 (the inputs are of order 1).
  const D = 4;
  it.each(Object.keys(torch.optimizers))('%s', (name) => {
    const c = torch.optimizers[name];
    const [w0, w1] = torch.problem.weights;
    const p = Float64Array.from(torch.problem.params);
    const state = newOptimizerState(c.settings, p.length, Float64Array);
    const scalars = newOptimizerScalars(c.settings);
    expect(c.steps).toHaveLength(torch.problem.steps);
    c.steps.forEach((step, k) => {
      const g = Float64Array.from(step.grad, (x) => D * x);
      referenceStep(c.settings, { p, g, weights: [p.subarray(w0, w1)] }, state, scalars, { lr: c.lr, d: D, t: k + 1, loss: 0 });
      expectNear(`step ${k + 1} params`, p, step.params, 1e-12);
      for (const [key, want] of Object.entries(step.state)) {
        if (key === 'prev') {
          // PyTorch keeps the last gradient (0 after a sign change), this project only its sign: iRprop-
          expect(Array.from(state.prev_sign), `step ${k + 1} sign of prev`).toEqual(want.map((x) => Math.sign(x) + 0));
        } else {
          expectNear(`step ${k + 1} ${key}`, state[key], want, 1e-12, 1e-15);
        }
      }
    });
  });

  it('covers every optimizer, and Rprop takes each branch: growth, sign change, a zero gradient', () => {
    expect(Object.keys(torch.optimizers).sort()).toEqual(['adam', 'adamw', 'nesterov', 'rprop', 'sgd']);
    const r = torch.optimizers.rprop.steps;
    const prevs = r.map((s) => s.state.prev);
    expect(prevs.some((prev, k) => k > 0 && prev.some((x, i) => x === 0 && r[k].grad[i] !== 0))).toBe(true); // a sign change
    expect(r.some((s) => s.grad.some((x) => x === 0))).toBe(true);
    expect(r.some((s, k) => k > 0 && s.state.step_size.some((x, i) => x > r[k - 1].state.step_size[i]))).toBe(true);
  });
});

describe('optimizerSettings: the config -> the optimizer', () => {
  const cfg = (training: Record<string, unknown>) => optimizerSettings(ConfigSchema.parse({ training }));
  it.each<[Record<string, unknown>, OptimizerSettings]>([
    [{}, { name: 'sgd', momentum: 0.9 }],
    [{ optimizer: 'nesterov', momentum: 0.5 }, { name: 'nesterov', momentum: 0.5 }],
    [{ optimizer: 'adam', lr: 0.001 }, { name: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
    [{ optimizer: 'adamw', lr: 0.001, adamw: { beta2: 0.99 } }, { name: 'adamw', beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.01 }],
    [
      { optimizer: 'rprop', batch_size: 'full', rprop: { variant: 'irprop+' } },
      { name: 'rprop', eta_minus: 0.5, eta_plus: 1.2, step_init: 0.01, step_min: 1e-6, step_max: 50, variant: 'irprop+' },
    ],
  ])('%j', (training, settings) => {
    expect(cfg(training)).toEqual(settings);
  });

  it("rprop's step sizes start at step_init, every other state at 0", () => {
    const r = newOptimizerState({ ...RPROP_DEFAULTS, step_init: 0.25 }, 3, Float64Array);
    expect(Object.fromEntries(Object.entries(r).map(([n, t]) => [n, Array.from(t)]))).toEqual({
      prev_sign: [0, 0, 0], step_size: [0.25, 0.25, 0.25], prev_delta: [0, 0, 0],
    });
  });
});

const RPROP_DEFAULTS: RpropSettings = { name: 'rprop', eta_minus: 0.5, eta_plus: 1.2, step_init: 0.01, step_min: 1e-6, step_max: 50, variant: 'irprop-' };
