import { describe, expect, it } from 'vitest';
import { softmaxForward } from '../../src/kernels/activations.js';
import { oneHot, type OutputBatch } from '../../src/objective/batch.js';
import { crossEntropy, mse } from '../../src/objective/losses.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// float64 central differences (h = 1e-5) err by ~1e-10 here; see activations.test.ts.
const TOL = { atol: 1e-8, rtol: 1e-6 };

function batch(n: number, O: number, seed: number, labels: number[] | null): OutputBatch {
  const Z = randomArray(n * O, seed, -2, 2);
  const Y = randomArray(n * O, seed + 1, 0.05, 0.95);
  const D = new Float64Array(n * O);
  const l = labels ? Uint8Array.from(labels) : null;
  if (l) oneHot(D, l, n, O);
  else D.set(randomArray(n * O, seed + 2, 0, 1)); // soft targets
  return { n, O, Y, Z, D, labels: l };
}

describe('mse', () => {
  it('value is sum 1/2 (y - d)^2 (seed 001 worked example: E = 0.593244871903886)', () => {
    const b: OutputBatch = {
      n: 1,
      O: 2,
      Y: Float64Array.of(0.889550613969795, 0.8003996080673895),
      Z: new Float64Array(2),
      D: Float64Array.of(0.1, 0.05),
      labels: null,
    };
    expect(mse.value(b)).toBeCloseTo(0.593244871903886, 14);
  });

  it.each([
    [1, 2, [1]],
    [5, 10, [0, 3, 3, 9, 1]],
    [3, 4, null],
  ])('dE/dY matches central differences (n=%i, O=%i)', (n, O, labels) => {
    const b = batch(n, O, 11 * n + O, labels);
    const numeric = centralDiff(() => mse.value(b), b.Y as Float64Array);
    const dY = new Float64Array(n * O);
    mse.addGradY(dY, b);
    expectClose(dY, numeric, TOL, 'dY');
  });
});

describe('softmax cross-entropy', () => {
  it.each([
    [1, 10, [3]],
    [4, 10, [0, 9, 9, 2]],
    [3, 5, null], // soft targets whose rows do not sum to 1: dE/dz = S y - d
  ])('dE/dZ through softmax matches central differences (n=%i, O=%i)', (n, O, labels) => {
    const b = batch(n, O, 5 * n + O, labels);
    const Z = b.Z as Float64Array;
    const Y = b.Y as Float64Array;
    const E = (): number => {
      softmaxForward(Y, Z, n, O);
      return crossEntropy.value(b);
    };
    const numeric = centralDiff(E, Z);
    softmaxForward(Y, Z, n, O);
    const delta = new Float64Array(n * O);
    crossEntropy.addGradZ(delta, b);
    expectClose(delta, numeric, TOL, 'dZ');
  });

  it('value equals -sum d log softmax(z), and stays finite when an output underflows', () => {
    const b = batch(2, 10, 3, [4, 7]);
    softmaxForward(b.Y, b.Z, 2, 10);
    let direct = 0;
    for (let k = 0; k < 20; k++) if (b.D[k] !== 0) direct -= b.D[k] * Math.log(b.Y[k]);
    expect(crossEntropy.value(b)).toBeCloseTo(direct, 12);

    const far: OutputBatch = { n: 1, O: 2, Z: Float64Array.of(0, 800), Y: new Float64Array(2), D: Float64Array.of(1, 0), labels: null };
    softmaxForward(far.Y, far.Z, 1, 2);
    expect(far.Y[0]).toBe(0); // exp(-800) underflows
    expect(crossEntropy.value(far)).toBeCloseTo(800, 9); // -log softmax_0 = lse - z_0 = 800
  });
});
