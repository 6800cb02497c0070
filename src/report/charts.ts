// The report's charts as Vega-Lite specs: axes, scales and legends come from
// the library; here only the data is shaped (long format: one row per point)
// and the encodings chosen. Every point of a per-epoch chart carries its exact
// value in its aria-label ("accuracy, validation, epoch 3: 0.9731", the number
// as JavaScript prints it, so it reads back equal to metrics.jsonl).
import type { TopLevelSpec } from 'vega-lite';
import type { ClassFigures } from '../eval/evaluate.js';
import type { EpochMetrics } from '../train/state.js';

const WIDTH = 460;
const HEIGHT = 260;

interface Point {
  epoch: number;
  value: number;
  series: string;
  label: string; // the aria-label of the point
}

/** One row per (epoch, series) of the series whose values exist (nulls are left out). */
function longFormat(what: string, metrics: readonly EpochMetrics[], series: ReadonlyArray<[string, keyof EpochMetrics]>): Point[] {
  const rows: Point[] = [];
  for (const [name, key] of series) {
    for (const m of metrics) {
      const v = m[key];
      if (typeof v === 'number') rows.push({ epoch: m.epoch, value: v, series: name, label: `${what}, ${name}, epoch ${m.epoch}: ${v}` });
    }
  }
  return rows;
}

const POINT = { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 } as const;
const EPOCH_X = { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' }, scale: { nice: false } } as const;

function epochLines(title: string, rows: Point[], y: { title: string; format?: string }): TopLevelSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: POINT,
    encoding: {
      x: EPOCH_X,
      description: { field: 'label' },
      y: {
        field: 'value',
        type: 'quantitative',
        title: y.title,
        scale: { zero: false },
        ...(y.format ? { axis: { format: y.format } } : {}),
      },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom' } },
    },
  };
}

/** The loss terms a run has (a term that is 0 in every epoch is off), by their metrics key. */
export function lossSeries(metrics: readonly EpochMetrics[]): Array<[string, keyof EpochMetrics]> {
  const on = (key: keyof EpochMetrics): boolean => metrics.some((m) => typeof m[key] === 'number' && m[key] !== 0);
  const series: Array<[string, keyof EpochMetrics]> = [['total (train)', 'loss'], ['data (train)', 'loss_data']];
  if (on('loss_discriminative')) series.push(['discriminative (train)', 'loss_discriminative']);
  if (on('loss_l2')) series.push(['L2 (train)', 'loss_l2']);
  if (on('val_loss')) series.push(['data (validation)', 'val_loss']);
  return series;
}

/**
 * Loss per training sample, one panel per term with its own y scale: the
 * terms differ by orders of magnitude, and the discriminative one is negative.
 */
export function lossChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const series = lossSeries(metrics);
  const rows = longFormat('loss', metrics, series);
  return {
    title: 'Loss per sample, by term',
    data: { values: rows },
    facet: {
      field: 'series',
      type: 'nominal',
      title: null,
      sort: series.map(([name]) => name),
      header: { labelFontSize: 12, labelFontWeight: 'bold' },
    },
    columns: series.length, // one row: at most 5 panels
    spec: {
      width: 220,
      height: 150,
      mark: POINT,
      encoding: {
        x: EPOCH_X,
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        description: { field: 'label' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export function accuracyChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const rows = longFormat('accuracy', metrics, [
    ['train', 'train_accuracy'],
    ['validation', 'val_accuracy'],
  ]);
  return epochLines('Accuracy per epoch', rows, { title: 'accuracy', format: '.1%' });
}

/** Seconds per epoch (training and evaluation, stacked bars) and GFLOP/s (line, right axis). */
export function timingChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const seconds = metrics.flatMap((m) => [
    { epoch: m.epoch, part: 'training', seconds: m.seconds },
    { epoch: m.epoch, part: 'evaluation', seconds: m.eval_seconds },
  ]);
  const gflops = metrics.map((m) => ({ epoch: m.epoch, gflops: m.gflops }));
  return {
    title: 'Time per epoch and GFLOP/s',
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: seconds },
        mark: { type: 'bar', opacity: 0.8 },
        encoding: {
          x: { field: 'epoch', type: 'ordinal', axis: { labelAngle: 0 } },
          y: { field: 'seconds', type: 'quantitative', stack: 'zero', title: 'seconds' },
          color: { field: 'part', type: 'nominal', title: null, scale: { range: ['#4c78a8', '#9ecae9'] }, legend: { orient: 'bottom' } },
        },
      },
      {
        data: { values: gflops },
        mark: { type: 'line', color: '#e45756', point: { filled: true, color: '#e45756' } },
        encoding: {
          x: { field: 'epoch', type: 'ordinal' },
          y: { field: 'gflops', type: 'quantitative', title: 'GFLOP/s (training)', axis: { titleColor: '#e45756' } },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

/** Heatmap of the confusion matrix with the counts written in; a symlog colour scale so the few errors still show beside the diagonal. */
export function confusionChart(confusion: readonly number[][]): TopLevelSpec {
  const O = confusion.length;
  const rows = confusion.flatMap((row, t) => row.map((count, p) => ({ true: t, predicted: p, count })));
  const max = Math.max(...rows.map((r) => r.count));
  const cell = Math.max(26, Math.min(42, Math.floor(420 / O)));
  return {
    title: 'Confusion matrix (rows: true digit, columns: predicted)',
    width: cell * O,
    height: cell * O,
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', axis: { orient: 'top', labelAngle: 0 } },
      y: { field: 'true', type: 'ordinal', title: 'true digit' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'count', type: 'quantitative', scale: { type: 'symlog', scheme: 'blues' }, legend: null } },
      },
      {
        mark: { type: 'text', fontSize: cell > 34 ? 11 : 9 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${Math.sqrt(Math.max(1, max))}`, value: 'white' }, value: '#222' },
        },
      },
    ],
  };
}

/** Precision and recall per digit as dots (the differences are a few points: bars from 0 would hide them). */
export function perClassChart(perClass: readonly ClassFigures[]): TopLevelSpec {
  const rows = perClass.flatMap((k) => [
    { digit: k.digit, measure: 'precision', value: k.precision },
    { digit: k.digit, measure: 'recall', value: k.recall },
  ]);
  return {
    title: 'Precision and recall per digit',
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'point', filled: true, size: 80 },
    encoding: {
      x: { field: 'digit', type: 'ordinal', axis: { labelAngle: 0 } },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, axis: { format: '.1%' }, title: null },
      color: { field: 'measure', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      shape: { field: 'measure', type: 'nominal', title: null },
    },
  };
}
