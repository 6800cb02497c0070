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

/** One set of weights scored on the evaluation half's dataset. */
export interface ScoredWeights {
  /** Which weights these are, as the page names them, e.g. "best.safetensors (epoch 7, best validation accuracy)". */
  label: string;
  evaluation: Evaluation;
  /** Predicted class of every sample of ds (any class index: a model may have more than 256 outputs). */
  predicted: Int32Array;
}

export interface EvaluationHalf {
  /** Which weights were scored, as the page names them: a file, e.g. "model.safetensors (epoch 30, the last epoch)". */
  weights: string;
  model: Mlp;
  ds: Dataset;
  evaluation: Evaluation;
  /** Predicted class of every sample of ds. */
  predicted: Int32Array;
  /** The best-validation weights of the run scored on the same data, when the run kept them. */
  best?: ScoredWeights;
}

export interface ReportParts {
  title: string;
  training?: TrainingHalf;
  evaluation?: EvaluationHalf;
}

/** Where html.ts puts a chart; 'evaluation-best' holds the best weights' charts beside the last ones. */
export type Section = 'training' | 'evaluation' | 'evaluation-best' | 'weights';

export interface Chart {
  name: string; // file name without .svg
  section: Section;
  svg: string;
}
