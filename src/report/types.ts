// What a report is made of: the run's training figures and an evaluation,
// either or both, and the rendered charts that html.ts lays out by section.
import type { Config } from '../config/schema.js';
import type { Dataset } from '../data/mnist.js';
import type { Evaluation } from '../eval/evaluate.js';
import type { Mlp } from '../model/mlp.js';
import type { EpochMetrics } from '../train/state.js';

/** The figures of summary.json the report shows. */
export interface RunSummary {
  test_accuracy: number;
  test_loss: number;
  epochs: number;
  stopped: string;
  train_seconds: number;
  total_seconds: number;
  gflops: number;
  parameters: number;
  best: { epoch: number; val_accuracy: number; test_accuracy: number } | null;
  samples: { train: number; validation: number; test: number };
}

export interface TrainingHalf {
  config: Config;
  metrics: readonly EpochMetrics[];
  summary: RunSummary;
}

export interface EvaluationHalf {
  /** Where the weights came from (a file, or "the last epoch"). */
  weights: string;
  model: Mlp;
  ds: Dataset;
  evaluation: Evaluation;
  /** Predicted class of every sample of ds. */
  predicted: Uint8Array;
}

export interface ReportParts {
  title: string;
  training?: TrainingHalf;
  evaluation?: EvaluationHalf;
}

export type Section = 'training' | 'evaluation' | 'weights';

export interface Chart {
  name: string; // file name without .svg
  section: Section;
  svg: string;
}
