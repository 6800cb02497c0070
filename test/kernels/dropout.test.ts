// The dropout mask (src/kernels/dropout.ts; the module's `dropout`,
// src/kernels/wasm/dropout-wat.ts): its keep rate and independence, the
// module against the reference bit for bit on any split over threads, and
// inverted scaling (a masked value is the value in expectation).
//
// Tolerances are binomial: a count of K kept among N independent elements,
// each kept with probability q, has mean N q and standard deviation
// sqrt(N q (1 - q)); 5 standard deviations fail a correct mask with
// probability below 6e-7 per check, and the checks are deterministic (fixed keys).
import { afterAll, describe, expect, it } from 'vitest';
import { dropoutMask, dropThreshold, maskHash, type MaskKey } from '../../src/kernels/dropout.js';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { grainOf } from '../../src/kernels/wasm/pool.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';

const rt = wasmRuntime().runtime!;
const k = moduleCalls(rt);
const blocks: number[] = [];
afterAll(() => blocks.forEach((b) => rt.heap.release(b)));

function moduleF32(n: number): Float32Array {
  const at = rt.heap.alloc(4 * n);
  blocks.push(at);
  return rt.heap.f32(at, n);
}

function maskKey(p: number, k1: number, k2: number): MaskKey {
  return { k1, k2, threshold: dropThreshold(p), scale: Math.fround(1 / (1 - p)) };
}

/** |kept - N q| <= 5 sqrt(N q (1 - q)). */
function expectBinomial(label: string, kept: number, N: number, q: number): void {
  const sd = Math.sqrt(N * q * (1 - q));
  if (!(Math.abs(kept - N * q) <= 5 * sd)) expect.fail(`${label}: ${kept} of ${N} kept, expected ${N * q} ± ${5 * sd}`);
}

const N = 1 << 20;

describe('the dropout mask', () => {
  it.each([0.1, 0.2, 0.5, 0.9])('keeps 1 - p of 2^20 elements, and of each row block and column class (p %f)', (p) => {
    const { k1, k2, threshold } = maskKey(p, 0x12345678, 0x9abcdef0);
    const q = 1 - p;
    let kept = 0;
    const rows = new Float64Array(16); // 16 blocks of 2^16 consecutive elements (rows of a batch)
    const cols = new Float64Array(16); // j mod 16 (the columns of a layer of 16k units)
    for (let j = 0; j < N; j++) {
      if (maskHash(j, k1, k2) < threshold) continue;
      kept++;
      rows[j >> 16]++;
      cols[j & 15]++;
    }
    expectBinomial('all', kept, N, q);
    rows.forEach((c, b) => expectBinomial(`block ${b}`, c, N / 16, q));
    cols.forEach((c, r) => expectBinomial(`column class ${r}`, c, N / 16, q));
  });

  it('the masks of neighbouring keys are independent: any two agree on p^2 + (1-p)^2 of the elements, also shifted by one', () => {
    const p = 0.5;
    const base = maskKey(p, 1000, 77);
    const keep = (key: MaskKey, j: number): boolean => maskHash(j, key.k1, key.k2) >= key.threshold;
    // k1 + G starts the base's Weyl sequence one element later: with the same k2 that is the base's mask shifted by
    // one (tried: all 2^20 agree), with another k2 the second keyed round makes it a mask of its own
    const others = [maskKey(p, 1001, 77), maskKey(p, 1000, 78), maskKey(p, 1000 + 0x9e3779b9, 78), maskKey(p, 1000, 77 ^ 0x80000000)];
    for (const [i, other] of others.entries()) {
      for (const shift of [0, 1]) {
        let same = 0;
        for (let j = 0; j + shift < N; j++) if (keep(base, j + shift) === keep(other, j)) same++;
        expectBinomial(`key ${i}, shift ${shift}`, same, N - shift, p * p + (1 - p) * (1 - p));
      }
    }
  });

  it('drop thresholds: p = 0 keeps every element, round(p 2^32) otherwise, capped below 2^32', () => {
    expect(dropThreshold(0)).toBe(0);
    expect(dropThreshold(0.5)).toBe(2 ** 31);
    expect(dropThreshold(0.2)).toBe(Math.round(0.2 * 2 ** 32));
    expect(dropThreshold(1 - 2 ** -40)).toBe(2 ** 32 - 1);
    const A = Float32Array.from({ length: 1000 }, (_, j) => j + 1);
    const out = new Float32Array(1000);
    dropoutMask(out, A, 1000, { k1: 5, k2: 6, threshold: 0, scale: 1 });
    expect(Array.from(out)).toEqual(Array.from(A));
  });

  // Awkward lengths (the 4-lane body and the one-at-a-time tail), and one split over threads.
  it.each([1, 3, 4, 5, 127, 100_003])('the module keeps and scales exactly as the reference (length %i, 1 and 2 threads, in place too)', (len) => {
    const A = moduleF32(len);
    for (let j = 0; j < len; j++) A[j] = j % 7 === 3 ? -0 : Math.sin(j) * 10 ** ((j % 9) - 4);
    const key = maskKey(0.3, 0xdeadbeef, 0x01234567);
    const ref = new Float32Array(len);
    dropoutMask(ref, A, len, key);
    const out = moduleF32(len);
    for (const threads of [1, 2]) {
      rt.setThreads(threads);
      out.fill(NaN); // every entry written
      k.dropout(len, grainOf(len, k.threads, 16, 16), { out, A, ...key });
      expect(Buffer.from(out.buffer, out.byteOffset, 4 * len).equals(Buffer.from(ref.buffer)), `${threads} threads`).toBe(true);
    }
    const inPlace = moduleF32(len);
    inPlace.set(A);
    k.dropout(len, grainOf(len, k.threads, 16, 16), { out: inPlace, A: inPlace, ...key });
    rt.setThreads(1);
    expect(Buffer.from(inPlace.buffer, inPlace.byteOffset, 4 * len).equals(Buffer.from(ref.buffer)), 'in place').toBe(true);
    // kept values are A s (one rounded product), dropped ones +0
    for (let j = 0; j < len; j++) {
      const kept = maskHash(j, key.k1, key.k2) >= key.threshold;
      expect(Object.is(ref[j], kept ? Math.fround(A[j] * key.scale) : 0)).toBe(true);
    }
  });

  it('inverted scaling: over 4000 masks, the mean of a masked value is the value within 5 standard errors', () => {
    // A masked value is a s with probability q = 1 - p, else 0: mean a, variance a^2 (1 - q) / q.
    const p = 0.4;
    const T = 4000;
    const A = Float64Array.from({ length: 200 }, (_, j) => 0.5 + Math.cos(j));
    const sum = new Float64Array(A.length);
    const out = new Float64Array(A.length);
    for (let t = 0; t < T; t++) {
      dropoutMask(out, A, A.length, { ...maskKey(p, Math.imul(t, 0x2545f491), t ^ 0x5bd1e995), scale: 1 / (1 - p) });
      for (let j = 0; j < A.length; j++) sum[j] += out[j];
    }
    const q = 1 - p;
    for (let j = 0; j < A.length; j++) {
      const se = Math.abs(A[j]) * Math.sqrt((1 - q) / q / T);
      if (!(Math.abs(sum[j] / T - A[j]) <= 5 * se + 1e-12)) expect.fail(`element ${j}: mean ${sum[j] / T} vs ${A[j]} (se ${se})`);
    }
  });
});
