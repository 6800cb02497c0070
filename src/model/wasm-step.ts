// The fast pass's optimizer step: each optimizer of optimizer.ts run by its
// function in the module (optimizers-wat.ts) on every working parameter, on
// every thread. The per-step constants (1/d, adam's step size and bias
// correction, adamw's decay factor, iRprop+'s backtrack test) are computed
// here in float64, as the reference computes them, and enter the module as
// float32. The working layout (wasm-layout.ts) is the parameters' for the
// gradient and every state tensor, so an update is one elementwise job; its
// zero padding stays zero (a zero gradient and zero state move nothing).
import type { ModuleCalls } from '../kernels/wasm/calls.js';
import { grainOf } from '../kernels/wasm/pool.js';
import { adamFactors, rpropBacktracks, type OptimizerScalars, type OptimizerSettings, type StepInputs } from './optimizer.js';

/** What the update works on, all in the module's memory and the working layout. */
export interface ModuleStepOperands {
  /** The working parameters, their summed gradient dE/dp, and views of the weights in P (adamw decays them, not the biases). */
  P: Float32Array;
  G: Float32Array;
  weights: readonly Float32Array[];
  state: Readonly<Record<string, Float32Array>>;
  scalars: OptimizerScalars;
}

export function moduleStep(k: ModuleCalls, o: OptimizerSettings, x: ModuleStepOperands, s: StepInputs): void {
  const { P, G, state } = x;
  const n = P.length;
  const grain = grainOf(n, k.threads, 1024);
  const scale = 1 / s.d;
  switch (o.name) {
    case 'sgd': {
      const mu = o.momentum;
      k.sgd(n, grain, { P, V: state.velocity, G, mu: mu === 0 ? 0 : mu, scale, lr: s.lr });
      return;
    }
    case 'nesterov':
      k.nesterov(n, grain, { P, V: state.velocity, G, mu: o.momentum, scale, lr: s.lr });
      return;
    case 'adam':
    case 'adamw': {
      if (o.name === 'adamw') {
        for (const W of x.weights) k.decay(W.length, grainOf(W.length, k.threads, 1024), { X: W, factor: 1 - s.lr * o.weight_decay });
      }
      const { alpha, bc2 } = adamFactors(o, s);
      const { beta1, beta2, eps } = o;
      k.adam(n, grain, { P, M: state.exp_avg, V: state.exp_avg_sq, G, scale, beta1, beta2, c1: 1 - beta1, c2: 1 - beta2, alpha, bc2, eps });
      return;
    }
    case 'rprop': {
      const revert = rpropBacktracks(o, x.scalars, s.loss) ? 1 : 0;
      const { eta_minus, eta_plus, step_min, step_max } = o;
      k.rprop(n, grain, { P, G, sign: state.prev_sign, step: state.step_size, delta: state.prev_delta, eta_minus, eta_plus, step_min, step_max, revert });
      return;
    }
  }
}
