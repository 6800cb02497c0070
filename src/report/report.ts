// The run report: report.html, one self-contained page (inline SVG and CSS, no
// script, no URL), and the same charts as standalone files in report/*.svg.
//
//   training half    (mlp-train; from the run's metrics, summary and config)
//     loss.svg         loss per sample: train and validation on one log axis; regularizer terms beside
//     accuracy.svg     train / validation accuracy per epoch
//     timing.svg       seconds per epoch and GFLOP/s
//   evaluation half  (mlp-train on the test set, or mlp-eval --report for any weights)
//     confusion.svg      confusion matrix heatmap
//     per-class.svg      precision and recall per digit
//     misclassified.svg  the misclassified digits, drawn from their pixels
//     *-best.svg         the same three for the best-validation weights, when the run kept them
//     weights.svg        the first layer's weights as images
import { join } from 'node:path';
import type { Dataset } from '../data/mnist.js';
import { makeDir, writeFileAtomic } from '../output/atomic.js';
import { accuracyChart, confusionChart, lossChart, perClassChart, timingChart } from './charts.js';
import { reportHtml } from './html.js';
import { misclassifiedGrid, weightsGrid } from './images.js';
import type { Chart, ReportParts, ScoredWeights, Section } from './types.js';
import { renderVegaLite } from './vega.js';

export type { EvaluationHalf, ReportParts, RunSummary, ScoredWeights, TrainingHalf } from './types.js';

export const REPORT_FILE = 'report.html';
export const CHARTS_DIR = 'report';

/** How many misclassified digits and hidden units the pictures show at most. */
const MAX_MISCLASSIFIED = 96;
const MAX_UNITS = 112;

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

async function renderCharts({ training, evaluation }: ReportParts): Promise<Chart[]> {
  const charts: Chart[] = [];
  if (training && training.metrics.length > 0) {
    charts.push({ name: 'loss', section: 'training', svg: await renderVegaLite(lossChart(training.metrics)) });
    charts.push({ name: 'accuracy', section: 'training', svg: await renderVegaLite(accuracyChart(training.metrics)) });
    charts.push({ name: 'timing', section: 'training', svg: await renderVegaLite(timingChart(training.metrics)) });
  }
  if (evaluation) {
    const { ds, model, best } = evaluation;
    const last: ScoredWeights = { label: evaluation.weights, evaluation: evaluation.evaluation, predicted: evaluation.predicted };
    charts.push(...(await scoredCharts(ds, last, 'evaluation', '')));
    if (best) charts.push(...(await scoredCharts(ds, best, 'evaluation-best', '-best')));
    const weights = weightsGrid(model, MAX_UNITS);
    if (weights !== null) charts.push({ name: 'weights', section: 'weights', svg: weights });
  }
  return charts;
}

/** The confusion matrix, per-class figures and misclassified digits of one set of weights; `suffix` keeps the file names apart. */
async function scoredCharts(ds: Dataset, { label, evaluation: e, predicted }: ScoredWeights, section: Section, suffix: string): Promise<Chart[]> {
  const charts: Chart[] = [
    { name: `confusion${suffix}`, section, svg: await renderVegaLite(confusionChart(e.confusion, label, ds.classes)) },
    { name: `per-class${suffix}`, section, svg: await renderVegaLite(perClassChart(e.per_class, label)) },
  ];
  const wrong = misclassifiedGrid(ds, predicted, e, MAX_MISCLASSIFIED, label);
  if (wrong !== null) charts.push({ name: `misclassified${suffix}`, section, svg: wrong });
  return charts;
}
