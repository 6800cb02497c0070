// Max-norm (src/model/max-norm.ts, the module's in src/model/wasm-regularization.ts):
// exactly the rows of W_l [O, I] over c are rescaled, to norm c, the others
// and the biases keep their bits; the fast pass's constraint on its working
// layout (panels with zero padding, row-major W^T with columns past the last
// 16, narrow layers) gives the reference's bits on 1 and 2 threads; both
// passes apply it after their optimizer step.
import { describe, expect, it } from 'vitest';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { NO_PASS_REGULARIZATION } from '../../src/model/dropout.js';
import { applyMaxNorm, maxNormRows } from '../../src/model/max-norm.js';
import { Mlp } from '../../src/model/mlp.js';
import type { SgdSettings } from '../../src/model/optimizer.js';
import { Pass } from '../../src/model/pass.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { Rng } from '../../src/rng.js';

const rt = wasmRuntime().runtime!;
const PLAIN: SgdSettings = { name: 'sgd', momentum: 0 };
const C = 1.5;

const rowNorm = (W: ArrayLike<number>, o: number, I: number): number => {
  let s = 0;
  for (let i = 0; i < I; i++) s += W[o * I + i] ** 2;
  return Math.sqrt(s);
};

/** A model whose rows have norms spread over [0, 2.5 C] (about half over C), one row exactly 0, biases of norm up to 20. */
function model(layers: number[], seed: number): Mlp {
  const m = new Mlp({ layers, hidden: 'relu', output: 'softmax' });
  const rng = new Rng(seed, 9);
  for (const [l, { I, O }] of m.slots.entries()) {
    const W = m.W[l];
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) W[o * I + i] = rng.uniform() - 0.5;
      const f = o === 1 ? 0 : (2.5 * C * rng.uniform()) / rowNorm(W, o, I);
      for (let i = 0; i < I; i++) W[o * I + i] *= f;
    }
    for (let o = 0; o < O; o++) m.b[l][o] = 20 * (rng.uniform() - 0.5);
  }
  return m;
}

describe('max-norm', () => {
  it('rescales exactly the rows over c, to norm c; rows within c and the biases keep their bits', () => {
    const m = model([30, 40, 10], 1);
    const before = m.params.slice();
    const at = (l: number): { over: boolean[]; W: Float32Array } => {
      const { I, O } = m.slots[l];
      return { over: Array.from({ length: O }, (_, o) => rowNorm(m.W[l], o, I) > C), W: m.W[l].slice() as Float32Array };
    };
    const was = m.slots.map((_, l) => at(l));
    applyMaxNorm(m, C);
    for (const [l, { I, O, bOffset }] of m.slots.entries()) {
      expect(was[l].over.filter(Boolean).length).toBeGreaterThan(O / 4); // both kinds of row are there
      expect(was[l].over.filter((x) => !x).length).toBeGreaterThan(O / 4);
      for (let o = 0; o < O; o++) {
        const row = m.W[l].subarray(o * I, (o + 1) * I);
        const old = was[l].W.subarray(o * I, (o + 1) * I);
        if (!was[l].over[o]) {
          expect(Buffer.from(row.slice().buffer).equals(Buffer.from(old.slice().buffer)), `W[${l}] row ${o} moved`).toBe(true);
          continue;
        }
        // norm c up to float32 rounding of each entry (relative 2^-24 each, so of the norm)
        expect(Math.abs(rowNorm(row, 0, I) - C)).toBeLessThanOrEqual(C * 2 ** -23);
        // the direction is kept: every entry scaled by the same factor c / ||w||, rounded once
        const f = C / rowNorm(old, 0, I);
        for (let i = 0; i < I; i++) expect(row[i]).toBe(Math.fround(old[i] * f));
      }
      expect(Array.from(m.params.subarray(bOffset, bOffset + O))).toEqual(Array.from(before.subarray(bOffset, bOffset + O)));
    }
  });

  it('leaves a row of norm exactly c alone (only norms over c move)', () => {
    const W = Float64Array.from([3, 4, 0, 0, 6, 8]); // rows of norm 5 and 10
    maxNormRows(W, 2, 3, 5);
    expect(Array.from(W)).toEqual([3, 4, 0, 0, 3, 4]);
  });

  // [20, 17, 9, 10]: W_0^T in panels with 15 padding columns, narrow layers 9 and 10 wide;
  // [784, 37, 300, 10]: 3 panels; W_1^T row-major with 18 groups of 16 and 12 columns past them; a narrow last layer.
  it.each([[20, 17, 9, 10], [784, 37, 300, 10]])('the fast pass gives the reference bits on its working layout, on 1 and 2 threads (layers %j)', (...layers) => {
    const ref = model(layers, 2);
    const P = ref.params.length;
    const start = ref.params.slice();
    applyMaxNorm(ref, C);
    expect(Array.from(ref.params)).not.toEqual(Array.from(start));
    for (const threads of [1, 2]) {
      rt.setThreads(threads);
      const m = model(layers, 2);
      const wp = new WasmPass(m, rt, { capacity: 1, optimizer: PLAIN, regularization: { ...NO_PASS_REGULARIZATION, maxNorm: C } });
      wp.load(m.params, { velocity: new Float32Array(P) });
      wp.step({ lr: 0, d: 1, t: 1, loss: 0 }); // a zero gradient and rate move nothing: the constraint alone
      const out = new Float32Array(P);
      wp.store(out, { velocity: new Float32Array(P) });
      // the padding of the panelled W_0^T is still zero
      for (let l = 0; l < m.L; l++) {
        const used = new Set<number>();
        for (let o = 0; o < m.slots[l].O; o++) for (let i = 0; i < m.slots[l].I; i++) used.add(wp.layout.wIndex(l, o, i));
        expect(Array.from(wp.W[l]).every((w, j) => used.has(j) || w === 0)).toBe(true);
      }
      wp.dispose();
      expect(Buffer.from(out.buffer).equals(Buffer.from((ref.params as Float32Array).buffer)), `${threads} threads`).toBe(true);
    }
    rt.setThreads(1);
  });

  it.each(['blocked', 'wasm'] as const)('follows the optimizer step (%s pass): every row within c after a step that pushes rows out', (kernel) => {
    const m = model([20, 30, 10], 3);
    applyMaxNorm(m, C);
    const reg = { ...NO_PASS_REGULARIZATION, maxNorm: C };
    const pass = kernel === 'wasm' ? new WasmPass(m, rt, { capacity: 1, optimizer: PLAIN, regularization: reg }) : new Pass(m, 1, kernel, true, PLAIN, reg);
    const velocity = { velocity: new Float32Array(m.params.length) };
    pass.load(m.params, velocity);
    // a gradient of -W on the weights: the step W -= lr (-W) grows every row by 1 + lr
    for (let l = 0; l < m.L; l++) for (let j = 0; j < pass.W[l].length; j++) pass.dW[l][j] = -pass.W[l][j];
    pass.step({ lr: 1, d: 1, t: 1, loss: 0 });
    pass.store(m.params, velocity);
    pass.dispose();
    for (const [l, { I, O }] of m.slots.entries()) {
      let atC = 0;
      for (let o = 0; o < O; o++) {
        const norm = rowNorm(m.W[l], o, I);
        expect(norm).toBeLessThanOrEqual(C * (1 + 2 ** -23));
        if (norm > C * (1 - 1e-6)) atC++;
      }
      expect(atC).toBeGreaterThan(O / 4); // the doubled rows over c were brought back to c
    }
  });
});
