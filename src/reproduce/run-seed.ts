// One seed of one row: a point (src/runs/point.ts) whose config is the row's
// with model.seed set, run like any other (src/runs: on this machine or on a
// queue's workers); what the table keeps of it comes from its summary.json.
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { PointSummary, RunPoint } from '../runs/point.js';

/** Training, validation and test samples of a run, as mlp-train counted them (summary.json). */
export interface Samples {
  train: number;
  validation: number;
  test: number;
}

export interface SeedRun {
  seed: number;
  test_accuracy: number;
  epochs: number;
  train_seconds: number; // the epochs' training time (summary.json)
  total_seconds: number; // the whole command: data loading, training, evaluation
  run_dir: string;
  samples: Samples;
}

/** Seed `seed` of `row`, trained into <outDir>/<row>/seed-<seed>; `config` is the row's config with --set applied. */
export function seedPoint(row: string, config: Config, seed: number, outDir: string): RunPoint {
  const seeded: Config = { ...config, model: { ...config.model, seed } };
  return { name: `${row} seed ${seed}`, dir: join(outDir, row, `seed-${seed}`), config: seeded, settings: { 'model.seed': String(seed) } };
}

export function seedRun(seed: number, dir: string, s: PointSummary): SeedRun {
  return {
    seed,
    test_accuracy: s.test_accuracy,
    epochs: s.epochs,
    train_seconds: s.train_seconds,
    total_seconds: s.total_seconds,
    run_dir: dir,
    samples: s.samples,
  };
}
