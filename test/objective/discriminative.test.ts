import { describe, expect, it } from 'vitest';
import type { OutputBatch } from '../../src/objective/batch.js';
import { Discriminative } from '../../src/objective/discriminative.js';
import { centralDiff, expectClose, randomArray } from '../helpers/gradcheck.js';

// float64 central differences (h = 1e-5) of a quadratic: the truncation term
// vanishes, rounding is ~1e-11; 1e-8 + 1e-6 |ref| is tight and safe.
const TOL = { atol: 1e-8, rtol: 1e-6 };

function batch(labels: number[], O: number, seed: number): OutputBatch {
  const n = labels.length;
  return {
    n,
    O,
    Y: randomArray(n * O, seed, 0, 1),
    Z: new Float64Array(n * O),
    D: new Float64Array(n * O),
    labels: Uint8Array.from(labels),
  };
}

/** tr S_w - tr S_b straight from seed 000's definitions, with full O x O scatter matrices. */
function scatterByDefinition(b: OutputBatch, C: number): { trSw: number; trSb: number } {
  const { n, O, Y } = b;
  const labels = b.labels!;
  const m = new Array<number>(O).fill(0);
  const mc = Array.from({ length: C }, () => new Array<number>(O).fill(0));
  const nc = new Array<number>(C).fill(0);
  for (let i = 0; i < n; i++) {
    nc[labels[i]]++;
    for (let j = 0; j < O; j++) {
      m[j] += Y[i * O + j] / n;
      mc[labels[i]][j] += Y[i * O + j];
    }
  }
  for (let c = 0; c < C; c++) for (let j = 0; j < O; j++) if (nc[c] > 0) mc[c][j] /= nc[c];
  const Sw = Array.from({ length: O }, () => new Array<number>(O).fill(0));
  const Sb = Array.from({ length: O }, () => new Array<number>(O).fill(0));
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let p = 0; p < O; p++)
      for (let q = 0; q < O; q++) Sw[p][q] += (Y[i * O + p] - mc[c][p]) * (Y[i * O + q] - mc[c][q]);
  }
  for (let c = 0; c < C; c++) {
    if (nc[c] === 0) continue;
    for (let p = 0; p < O; p++) for (let q = 0; q < O; q++) Sb[p][q] += nc[c] * (mc[c][p] - m[p]) * (mc[c][q] - m[q]);
  }
  let trSw = 0;
  let trSb = 0;
  for (let p = 0; p < O; p++) {
    trSw += Sw[p][p];
    trSb += Sb[p][p];
  }
  return { trSw, trSb };
}

/** The hand formula that circulates with seed 000 (drops the cross terms). */
function handFormula(b: OutputBatch, gamma: number, C: number): Float64Array {
  const { n, O, Y } = b;
  const labels = b.labels!;
  const { means, counts, mean } = stats(b, C);
  const g = new Float64Array(n * O);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    for (let j = 0; j < O; j++) {
      const y = Y[i * O + j];
      const mcj = means[c * O + j];
      g[i * O + j] = gamma * ((y - mcj) * (1 - 1 / counts[c]) - (mcj - mean[j]) * (1 / counts[c] - 1 / n));
    }
  }
  return g;
}

function stats(b: OutputBatch, C: number): { means: Float64Array; counts: Float64Array; mean: Float64Array } {
  const { n, O, Y } = b;
  const means = new Float64Array(C * O);
  const counts = new Float64Array(C);
  const mean = new Float64Array(O);
  for (let i = 0; i < n; i++) {
    const c = b.labels![i];
    counts[c]++;
    for (let j = 0; j < O; j++) {
      means[c * O + j] += Y[i * O + j];
      mean[j] += Y[i * O + j] / n;
    }
  }
  for (let c = 0; c < C; c++) for (let j = 0; j < O; j++) if (counts[c]) means[c * O + j] /= counts[c];
  return { means, counts, mean };
}

const CASES: Array<[string, number[], number]> = [
  ['uneven class counts', [0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 1], 3],
  ['a class with one sample', [0, 1, 1, 2, 2, 2], 3],
  ['absent classes (10 outputs, 3 classes present)', [7, 7, 2, 9, 2, 7], 10],
  ['every sample alone in its class', [0, 1, 2, 3], 4],
  ['one class only', [5, 5, 5], 10],
];

describe('discriminative regularizer gamma/2 (tr S_w - tr S_b)', () => {
  it.each(CASES)('value matches the scatter matrices of the definition: %s', (_name, labels, O) => {
    const b = batch(labels, O, labels.length * 31 + O);
    const reg = new Discriminative(0.7, O, O);
    const ref = scatterByDefinition(b, O);
    const got = reg.scatter(b);
    expect(got.trSw).toBeCloseTo(ref.trSw, 12);
    expect(got.trSb).toBeCloseTo(ref.trSb, 12);
    expect(reg.value(b)).toBeCloseTo(0.35 * (ref.trSw - ref.trSb), 12);
  });

  it.each(CASES)('gradient gamma (y_i - 2 m_c + m) matches central differences: %s', (_name, labels, O) => {
    const b = batch(labels, O, labels.length * 17 + O);
    const gamma = 1.3;
    const reg = new Discriminative(gamma, O, O);
    const numeric = centralDiff(() => reg.value(b), b.Y as Float64Array);
    const dY = randomArray(labels.length * O, 5); // addGradY adds: start from a random buffer
    const before = Float64Array.from(dY);
    reg.addGradY(dY, b);
    const added = dY.map((v, k) => v - before[k]);
    expectClose(added, numeric, TOL, 'dR/dY');
  });

  it('the often-quoted hand formula disagrees with the exact gradient', () => {
    const [, labels, O] = CASES[0];
    const b = batch(labels, O, 123);
    const gamma = 1;
    const reg = new Discriminative(gamma, O, O);
    const numeric = centralDiff(() => reg.value(b), b.Y as Float64Array);
    const hand = handFormula(b, gamma, O);
    let maxErr = 0;
    let maxRef = 0;
    for (let k = 0; k < numeric.length; k++) {
      maxErr = Math.max(maxErr, Math.abs(hand[k] - numeric[k]));
      maxRef = Math.max(maxRef, Math.abs(numeric[k]));
    }
    // The error is of the size of the gradient itself, not rounding: at least 30% of the largest entry.
    expect(maxErr).toBeGreaterThan(0.3 * maxRef);
  });

  it.each(CASES)("gradient 'seed_blog' is the hand formula, not the gradient: %s", (_name, labels, O) => {
    const b = batch(labels, O, labels.length * 13 + O);
    const gamma = 0.9;
    const blog = new Discriminative(gamma, O, O, 'seed_blog');
    const dY = randomArray(labels.length * O, 9); // addGradY adds: start from a random buffer
    const before = Float64Array.from(dY);
    blog.addGradY(dY, b);
    const added = dY.map((v, k) => v - before[k]);
    // Same formula, evaluated in another order: float64 rounding only.
    expectClose(added, handFormula(b, gamma, O), TOL, 'seed_blog dR/dY');
    // ... and not the derivative of the value it regularizes (which is unchanged).
    const numeric = centralDiff(() => blog.value(b), b.Y as Float64Array);
    const maxErr = Math.max(...added.map((v, k) => Math.abs(v - numeric[k])));
    expect(maxErr).toBeGreaterThan(0.1 * Math.max(...numeric.map(Math.abs)));
    expect(blog.value(b)).toBe(new Discriminative(gamma, O, O).value(b));
  });
});
