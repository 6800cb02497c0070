// The learning rate over a run: a schedule over epochs and a linear warm-up
// over the first steps. The update itself is the optimizer's (src/model/optimizer.ts).
import type { LrSchedule } from '../config/schema.js';

/** Learning rate of epoch e (0-based) out of `epochs`. */
export function lrAt(base: number, s: LrSchedule, e: number, epochs: number): number {
  switch (s.type) {
    case 'constant':
      return base;
    case 'step': // lr * factor^floor(e / every), as PyTorch's StepLR
      return base * Math.pow(s.factor, Math.floor(e / s.every));
    case 'cosine': // from lr down towards 0 over the run, as CosineAnnealingLR with T_max = epochs
      return 0.5 * base * (1 + Math.cos((Math.PI * e) / epochs));
  }
}

/**
 * Linear warm-up factor of step t (0-based, counted over the whole run):
 * (t + 1) / warmupSteps, capped at 1. Without it, a large lr with momentum
 * drives every sigmoid output towards 0 in the first steps (all targets but
 * one are 0), where y(1 - y) ~ 0 and training stalls at E = 1/2 per sample.
 * Saturation is a matter of steps, not epochs, hence the unit.
 */
export function warmupFactor(warmupSteps: number, t: number): number {
  return warmupSteps > 0 ? Math.min(1, (t + 1) / warmupSteps) : 1;
}

/**
 * A one-line warning when the warm-up does not fit the run: longer than the
 * whole run (the rate never reaches training.lr), or more than half of it.
 * A run of 1000 samples for 1 epoch has 10 steps; the default 600-step
 * warm-up then trains at 1/600 to 10/600 of the rate and ends near chance.
 * Null when it fits.
 */
export function warmupWarning(warmupSteps: number, epochs: number, stepsPerEpoch: number, lr: number): string | null {
  const steps = epochs * stepsPerEpoch;
  if (warmupSteps === 0 || 2 * warmupSteps <= steps) return null;
  const run = `${steps} steps: ${epochs} epoch${epochs === 1 ? '' : 's'} x ${stepsPerEpoch} batches`;
  const effect =
    warmupSteps > steps
      ? `is longer than the whole run (${run}), so the rate never reaches training.lr ${lr}`
      : `takes ${Math.round((100 * warmupSteps) / steps)}% of the run (${run}), so the rate stays below training.lr ${lr} for most of it`;
  return `training.lr_schedule.warmup_steps ${warmupSteps} ${effect}; lower training.lr_schedule.warmup_steps, or raise training.epochs or data.limit`;
}
