// The run report: report.html, one self-contained page (inline SVG and CSS, no
// script, no URL), and the same charts as standalone files in report/*.svg.
//
//   training half    (mlp-train; from the run's metrics, summary and config)
//     loss.svg         loss per sample by term (data, discriminative, L2; validation)
//     accuracy.svg     train / validation accuracy per epoch
//     timing.svg       seconds per epoch and GFLOP/s
//   evaluation half  (mlp-train on the test set, or mlp-eval --report for any weights)
//     confusion.svg      confusion matrix heatmap
//     per-class.svg      precision and recall per digit
//     misclassified.svg  the misclassified digits, drawn from their pixels
//     weights.svg        the first layer's weights as images
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Dataset } from '../data/mnist.js';
import type { Evaluation } from '../eval/evaluate.js';
import { OutputError } from '../errors.js';
import type { Mlp } from '../model/mlp.js';
import { makeDir, writeFileAtomic } from '../output/atomic.js';
import type { EpochMetrics } from '../train/trainer.js';
import { accuracyChart, confusionChart, lossChart, perClassChart, timingChart } from './charts.js';
import { reportHtml, type Section } from './html.js';
import { misclassifiedGrid, weightsGrid } from './images.js';
import { renderVegaLite } from './vega.js';

export const REPORT_FILE = 'report.html';
export const CHARTS_DIR = 'report';

/** How many misclassified digits and hidden units the pictures show at most. */
const MAX_MISCLASSIFIED = 96;
const MAX_UNITS = 112;

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

/** Writes report.html and report/*.svg into `dir`; returns the paths written. */
export async function writeReport(dir: string, parts: ReportParts): Promise<string[]> {
  const charts = await renderCharts(parts);
  const chartsDir = join(dir, CHARTS_DIR);
  makeDir(chartsDir);
  const written: string[] = [];
  for (const c of charts) {
    const file = join(chartsDir, `${c.name}.svg`);
    writeFileAtomic(file, c.svg);
    written.push(file);
  }
  const html = join(dir, REPORT_FILE);
  writeFileAtomic(html, reportHtml(parts, charts));
  written.push(html);
  return written;
}

export interface Chart {
  name: string; // file name without .svg
  section: Section;
  svg: string;
}

async function renderCharts({ training, evaluation }: ReportParts): Promise<Chart[]> {
  const charts: Chart[] = [];
  if (training && training.metrics.length > 0) {
    charts.push({ name: 'loss', section: 'training', svg: await renderVegaLite(lossChart(training.metrics)) });
    charts.push({ name: 'accuracy', section: 'training', svg: await renderVegaLite(accuracyChart(training.metrics)) });
    charts.push({ name: 'timing', section: 'training', svg: await renderVegaLite(timingChart(training.metrics)) });
  }
  if (evaluation) {
    const { evaluation: e, ds, predicted, model } = evaluation;
    charts.push({ name: 'confusion', section: 'evaluation', svg: await renderVegaLite(confusionChart(e.confusion)) });
    charts.push({ name: 'per-class', section: 'evaluation', svg: await renderVegaLite(perClassChart(e.per_class)) });
    const wrong = misclassifiedGrid(ds, predicted, e, MAX_MISCLASSIFIED);
    if (wrong !== null) charts.push({ name: 'misclassified', section: 'evaluation', svg: wrong });
    const weights = weightsGrid(model, MAX_UNITS);
    if (weights !== null) charts.push({ name: 'weights', section: 'weights', svg: weights });
  }
  return charts;
}
