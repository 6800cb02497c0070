// The warm-up check: one line when the warm-up does not fit the run, naming
// the keys to change; nothing when it fits.
import { describe, expect, it } from 'vitest';
import { warmupFactor, warmupWarning } from '../../src/train/schedule.js';

const FIX = 'lower training.lr_schedule.warmup_steps, or raise training.epochs or data.limit';

describe('warmupWarning', () => {
  it.each([
    // data.limit=1000, batch 100, 1 epoch: the 13% run of the issue
    [600, 1, 10, 2, `training.lr_schedule.warmup_steps 600 is longer than the whole run (10 steps: 1 epoch x 10 batches), so the rate never reaches training.lr 2; ${FIX}`],
    // data.limit=5000, 2 epochs: 100 steps
    [600, 2, 50, 2, `training.lr_schedule.warmup_steps 600 is longer than the whole run (100 steps: 2 epochs x 50 batches), so the rate never reaches training.lr 2; ${FIX}`],
    [600, 1, 600, 0.5, `training.lr_schedule.warmup_steps 600 takes 100% of the run (600 steps: 1 epoch x 600 batches), so the rate stays below training.lr 0.5 for most of it; ${FIX}`],
    [600, 2, 500, 2, `training.lr_schedule.warmup_steps 600 takes 60% of the run (1000 steps: 2 epochs x 500 batches), so the rate stays below training.lr 2 for most of it; ${FIX}`],
    [600, 2, 600, 2, null], // exactly half: fits
    [600, 20, 600, 2, null], // the default run: 5%
    [0, 1, 1, 2, null], // no warm-up
  ])('warm-up %i steps, %i epochs of %i steps -> %s', (warmup, epochs, steps, lr, expected) => {
    expect(warmupWarning(warmup, epochs, steps, lr)).toBe(expected);
  });

  it('the 10-step run of the first case never gets past 10/600 of the rate', () => {
    expect(warmupFactor(600, 9)).toBe(10 / 600);
  });
});
