import { describe, expect, it } from 'vitest';
import { KERNELS, matmulBackwardNaive, matmulForwardNaive, type Vec } from '../../src/kernels/matmul.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// Awkward shapes: N = 1, N and O not multiples of the 4x4 tile, O = 10 (the
// output layer), I not a multiple of 4, and a tile-exact shape.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 784, 10],
  [3, 5, 7],
  [4, 4, 4],
  [5, 9, 10],
  [8, 16, 12],
  [17, 30, 10],
  [100, 37, 23],
];

describe('naive kernels against independent references', () => {
  it('forward is X W^T + b, by an explicit 2x3 example', () => {
    // X = [[1,2],[3,4]], W = [[1,0],[0,1],[1,1]], b = [10,20,30]
    const Z = new Float64Array(6).fill(NaN);
    matmulForwardNaive(Z, Float64Array.of(1, 2, 3, 4), Float64Array.of(1, 0, 0, 1, 1, 1), Float64Array.of(10, 20, 30), 2, 2, 3);
    expect(Array.from(Z)).toEqual([11, 22, 33, 13, 24, 37]);
  });

  // L = Σ G ⊙ Z(X, W, b) with a random upstream gradient G; backward with dZ = G
  // must give dL/dX, dL/dW, dL/db. Float64 central differences; L is linear in
  // each argument, so the differences are exact up to rounding (~1e-10).
  it.each(SHAPES.filter(([N, I, O]) => N * I * O <= 4000))('backward matches finite differences for N=%i I=%i O=%i', (N, I, O) => {
    const X = randomArray(N * I, 1 + N, -1, 1);
    const W = randomArray(O * I, 2 + I, -1, 1);
    const b = randomArray(O, 3 + O, -1, 1);
    const G = randomArray(N * O, 4 + N * O, -1, 1);
    const Z = new Float64Array(N * O);
    const L = (): number => {
      matmulForwardNaive(Z, X, W, b, N, I, O);
      let s = 0;
      for (let k = 0; k < Z.length; k++) s += G[k] * Z[k];
      return s;
    };
    const dX = new Float64Array(N * I).fill(NaN);
    const dW = new Float64Array(O * I).fill(NaN);
    const db = new Float64Array(O).fill(NaN);
    matmulBackwardNaive(dX, dW, db, G, X, W, N, I, O);
    const tol = { atol: 1e-8, rtol: 1e-7 };
    expectClose(dX, centralDiff(L, X), tol, 'dX');
    expectClose(dW, centralDiff(L, W), tol, 'dW');
    expectClose(db, centralDiff(L, b), tol, 'db');
  });
});

describe.each(Object.keys(KERNELS).filter((k) => k !== 'naive') as Array<keyof typeof KERNELS>)('%s kernel', (name) => {
  const k = KERNELS[name];

  // Both kernels add the terms of each sum in the same order in float64, so
  // they must agree exactly, on float32 and float64 buffers alike.
  it.each(SHAPES)('equals naive bit for bit, float32, N=%i I=%i O=%i', (N, I, O) => {
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const X = f32(randomArray(N * I, 11 + N, 0, 1));
    const W = f32(randomArray(O * I, 12 + I, -0.5, 0.5));
    const b = f32(randomArray(O, 13 + O, -0.5, 0.5));
    const dZ = f32(randomArray(N * O, 14 + N, -1, 1));
    const copies = [X, W, b, dZ].map((a) => a.slice());

    const run = (fwd: typeof k.forward, bwd: typeof k.backward): Vec[] => {
      const out = [new Float32Array(N * O), new Float32Array(N * I), new Float32Array(O * I), new Float32Array(O)];
      for (const a of out) a.fill(NaN); // every entry must be written
      fwd(out[0], X, W, b, N, I, O);
      bwd(out[1], out[2], out[3], dZ, X, W, N, I, O);
      return out;
    };
    const ref = run(matmulForwardNaive, matmulBackwardNaive);
    const got = run(k.forward, k.backward);
    ['Z', 'dX', 'dW', 'db'].forEach((label, j) => {
      expect(got[j].some(Number.isNaN), `${label} has unwritten entries`).toBe(false);
      expect(Array.from(got[j]), label).toEqual(Array.from(ref[j]));
    });
    // inputs unchanged
    [X, W, b, dZ].forEach((a, j) => expect(Array.from(a)).toEqual(Array.from(copies[j])));
  });

  it.each(SHAPES)('equals naive bit for bit, float64, N=%i I=%i O=%i', (N, I, O) => {
    const X = randomArray(N * I, 21 + N, -1, 1);
    const W = randomArray(O * I, 22 + I, -1, 1);
    const b = randomArray(O, 23 + O, -1, 1);
    const dZ = randomArray(N * O, 24 + N, -1, 1);
    const Zr = new Float64Array(N * O), Zk = new Float64Array(N * O).fill(NaN);
    matmulForwardNaive(Zr, X, W, b, N, I, O);
    k.forward(Zk, X, W, b, N, I, O);
    expect(Array.from(Zk)).toEqual(Array.from(Zr));
    const dWr = new Float64Array(O * I), dbr = new Float64Array(O);
    const dWk = new Float64Array(O * I).fill(NaN), dbk = new Float64Array(O).fill(NaN);
    // dX = null: the first layer's input gradient is skipped, the rest still computed.
    matmulBackwardNaive(null, dWr, dbr, dZ, X, W, N, I, O);
    k.backward(null, dWk, dbk, dZ, X, W, N, I, O);
    expect(Array.from(dWk)).toEqual(Array.from(dWr));
    expect(Array.from(dbk)).toEqual(Array.from(dbr));
  });
});
