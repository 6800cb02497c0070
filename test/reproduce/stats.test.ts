import { describe, expect, it } from 'vitest';
import { summarize, threshold } from '../../src/reproduce/stats.js';

describe('summarize', () => {
  it('mean, sample sd (n - 1), min, max', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32/7
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s).toEqual({ n: 8, mean: 5, sd: Math.sqrt(32 / 7), min: 2, max: 9 });
  });

  it('one run has sd 0', () => {
    expect(summarize([0.97])).toEqual({ n: 1, mean: 0.97, sd: 0, min: 0.97, max: 0.97 });
  });

  it('refuses no runs', () => {
    expect(() => summarize([])).toThrow('no values');
  });
});

describe('threshold = mean - 3 sd, rounded down to 0.01 point', () => {
  it('derives it from the runs', () => {
    // mean 0.9586, squared deviations 2 x 0.6^2 + 2 x 0.1^2 + 1.4^2 = 2.7 (1e-6), sd sqrt(2.7e-6 / 4) = 0.000822
    // -> 0.956135, rounded down 0.9561
    expect(threshold([0.958, 0.958, 0.9585, 0.9585, 0.96])).toBe(0.9561);
    // mean 0.98152, sd 0.000589 -> 0.979753, rounded down 0.9797 (not up to 0.9798)
    expect(threshold([0.9811, 0.982, 0.9815, 0.9808, 0.9822])).toBe(0.9797);
  });

  it('needs at least 5 runs', () => {
    expect(() => threshold([0.98, 0.98, 0.98, 0.98])).toThrow('at least 5 runs, got 4');
  });
});
