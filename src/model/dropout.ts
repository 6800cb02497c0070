// Dropout (Srivastava et al. 2014), inverted: during training each input
// pixel is dropped with probability p_in and each hidden unit's output with
// p_h, and the kept values are scaled by s = 1/(1-p), so that E[Ã] = A and
// evaluation runs the plain network (no mask, no rescaling). For a step's
// masks M (0/1, one per element of the batch matrix):
//
//   forward   X̃   = M_in ⊙ X s_in                 layer 0 reads X̃
//             Ã_l = M_l ⊙ A_l s_h                 (hidden l < L-1) layer l+1 reads Ã_l
//   backward  dE/dA_l = M_l ⊙ dE/dÃ_l s_h          before delta_l = f'(Z_l) ⊙ dE/dA_l, from the unmasked A_l
//             dW_0 = delta_0^T X̃,  dW_{l+1} = delta_{l+1}^T Ã_l   (the products read what forward read)
//
// The masks come from a counter-based hash (src/kernels/dropout.ts) keyed by
// (model.seed, step t, slot): slot 0 is the input, slot l + 1 the output of
// hidden layer l, and t the step's number in the run (1, 2, ..., from the
// trainer's position, as adam's t). Element j of a batch matrix (row-major
// [n, width]) is decided by its own hash: the masks are the same on any
// thread count and on both passes, a resumed run redraws exactly the masks
// it would have drawn, and a checkpoint saves nothing for them.
//
// A pass gives its mask function and its memory (DropoutBackend); Dropout
// holds the step's keys and the buffers of Ã_l (and of X̃ for the
// reference pass; the fast pass drops the inputs in X itself, which the
// batch source rewrites every step).
import type { Config } from '../config/schema.js';
import { dropThreshold, fmix32, type MaskKey } from '../kernels/dropout.js';
import type { FloatArrayConstructor, Mlp, Vec } from './mlp.js';

/** Drop probabilities in [0, 1): of the input pixels and of every hidden layer's outputs. */
export interface DropoutRates {
  input: number;
  hidden: number;
}

/** What a training pass does besides the objective's gradient: dropout, and max-norm after each step (0 = off). */
export interface PassRegularization {
  dropout: DropoutRates;
  maxNorm: number;
  /** model.seed: keys the masks. */
  seed: number;
}

export const NO_PASS_REGULARIZATION: PassRegularization = { dropout: { input: 0, hidden: 0 }, maxNorm: 0, seed: 0 };

export function passRegularization(cfg: Config): PassRegularization {
  const r = cfg.regularization;
  return { dropout: { input: r.dropout.input, hidden: r.dropout.hidden }, maxNorm: r.max_norm, seed: cfg.model.seed };
}

/** out[j] = keep(j) ? A[j] scale : 0 for j < len, on the pass's memory (out may be A). */
export type MaskRun<V extends Vec> = (out: V, A: V, len: number, key: MaskKey) => void;

/** V: the pass's arrays. */
export interface DropoutBackend<V extends Vec> {
  run: MaskRun<V>;
  /** A buffer of `floats` values in the pass's memory. */
  alloc(floats: number): V;
  /** Drop the inputs in X itself rather than into a buffer of their own. */
  inPlaceInput: boolean;
}

// Two chains with their own constants, so that a key pair (k1, k2) repeats only if both 32-bit halves collide.
const CHAINS = [0x3c6ef372, 0xa54ff53a] as const;

/** One half of the key of a slot's mask at step t. */
function keyHalf(c: number, seed: number, t: number, slot: number): number {
  const h = fmix32(seed ^ c);
  return fmix32((fmix32((h ^ t) + c) ^ slot) + c);
}

export class Dropout<V extends Vec> {
  /** The dropped copy of the input (reference pass), and of each hidden layer's output A_l (null where not dropped). */
  readonly Xd: V | null;
  readonly Ad: Array<V | null>;
  private readonly p: number[]; // per slot
  private readonly keys: MaskKey[]; // per slot, for the current step
  private readonly run: MaskRun<V>;
  private readonly seed: number;
  private readonly inputs: number;
  private readonly widths: number[]; // per hidden layer
  private t = 0;

  /** The pass's dropout for batches of up to `capacity` rows, or null if nothing is dropped. */
  static of<V extends Vec>(model: Mlp, capacity: number, reg: PassRegularization, backend: DropoutBackend<V>): Dropout<V> | null {
    const { input, hidden } = reg.dropout;
    return input > 0 || (hidden > 0 && model.L > 1) ? new Dropout(model, capacity, reg, backend) : null;
  }

  private constructor(model: Mlp, capacity: number, reg: PassRegularization, backend: DropoutBackend<V>) {
    const { input, hidden } = reg.dropout;
    const L = model.L;
    this.run = backend.run;
    this.seed = reg.seed >>> 0;
    this.inputs = model.inputs;
    this.widths = model.slots.map((s) => s.units);
    this.p = [input, ...model.slots.map((_, l) => (l < L - 1 ? hidden : 0))];
    this.keys = this.p.map((p) => ({ k1: 0, k2: 0, threshold: dropThreshold(p), scale: scaleOf(p, model.Float) }));
    this.Xd = input > 0 && !backend.inPlaceInput ? backend.alloc(capacity * model.inputs) : null;
    this.Ad = model.slots.map((s, l) => (this.p[l + 1] > 0 ? backend.alloc(capacity * s.units) : null));
  }

  /** The masks of step t (>= 1) for the following forward and backward; t = 0: none (the plain network). */
  setStep(t: number): void {
    this.t = t;
    if (t === 0) return;
    for (let slot = 0; slot < this.keys.length; slot++) {
      this.keys[slot].k1 = keyHalf(CHAINS[0], this.seed, t, slot);
      this.keys[slot].k2 = keyHalf(CHAINS[1], this.seed, t, slot);
    }
  }

  /** The key of a slot's mask at the current step (tests; the passes go through input/hidden/backward). */
  key(slot: number): Readonly<MaskKey> {
    return this.keys[slot];
  }

  /** What layer 0 reads: X̃ (in X itself, or Xd) when inputs are dropped this step, else X. */
  input(X: V, n: number): V {
    if (this.t === 0 || this.p[0] === 0) return X;
    const out = this.Xd ?? X;
    this.run(out, X, n * this.inputs, this.keys[0]);
    return out;
  }

  /** What layer l + 1 reads: Ã_l when layer l's outputs are dropped this step, else A_l. */
  hidden(l: number, A: V, n: number): V {
    const out = this.Ad[l];
    if (this.t === 0 || out === null) return A;
    this.run(out, A, n * this.widths[l], this.keys[l + 1]);
    return out;
  }

  /** dE/dA_l = M_l ⊙ dE/dÃ_l s_h, in place (nothing when layer l's outputs were not dropped). */
  backward(l: number, dA: V, n: number): void {
    if (this.t === 0 || this.Ad[l] === null) return;
    this.run(dA, dA, n * this.widths[l], this.keys[l + 1]);
  }
}

/** 1/(1-p), rounded to the model's float type (so that a kept value is one rounded product in either pass). */
function scaleOf(p: number, Float: FloatArrayConstructor): number {
  const s = 1 / (1 - p);
  return Float === Float32Array ? Math.fround(s) : s;
}

/** Bytes of the dropped copies a training pass keeps for a batch of N rows (src/train/memory.ts). */
export function dropoutBytes(rates: DropoutRates, layers: readonly number[], N: number, reference: boolean): number {
  let floats = rates.input > 0 && reference ? N * layers[0] : 0;
  if (rates.hidden > 0) for (let l = 1; l + 1 < layers.length; l++) floats += N * layers[l];
  return 4 * floats;
}
