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
/** What every per-epoch chart encodes the same way: epochs across, a tooltip label, values up. */
const EPOCH_ENCODING = { x: EPOCH_X, description: { field: 'label' } } as const;
const VALUE_Y = { field: 'value', type: 'quantitative' } as const;

function epochLines(title: string, rows: Point[], y: { title: string; format?: string }): TopLevelSpec {
  return {
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: POINT,
    encoding: {
      ...EPOCH_ENCODING,
      y: {
        ...VALUE_Y,
        title: y.title,
        scale: { zero: false },
        ...(y.format ? { axis: { format: y.format } } : {}),
      },
      color: { field: 'series', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom' } },
    },
  };
}

type Series = [string, keyof EpochMetrics];

/**
 * The loss curves of a run, by panel. `log`: the data loss of the training
 * and the validation samples, on one log axis so that they compare at a
 * glance and stay readable after the first epochs, and the total (data +
 * regularizers) only when a regularizer term is non-zero (it would repeat the
 * data curve otherwise). `linear`: the regularizer terms (the discriminative
 * one is negative), and any curve with a value <= 0, which a log axis cannot
 * place.
 */
export function lossSeries(metrics: readonly EpochMetrics[]): { log: Series[]; linear: Series[] } {
  const on = (key: keyof EpochMetrics): boolean => metrics.some((m) => typeof m[key] === 'number' && m[key] !== 0);
  const some = (key: keyof EpochMetrics): boolean => metrics.some((m) => typeof m[key] === 'number');
  const positive = ([, key]: Series): boolean => metrics.every((m) => typeof m[key] !== 'number' || m[key] > 0);
  const regularized = on('loss_discriminative') || on('loss_l2');
  const main: Series[] = [['data (train)', 'loss_data']];
  if (some('val_loss')) main.push(['data (validation)', 'val_loss']);
  if (regularized) main.push(['total (train)', 'loss']);
  const terms: Series[] = [];
  if (on('loss_discriminative')) terms.push(['discriminative (train)', 'loss_discriminative']);
  if (on('loss_l2')) terms.push(['L2 (train)', 'loss_l2']);
  return { log: main.filter(positive), linear: [...main.filter((s) => !positive(s)), ...terms] };
}

/** A chart that can sit in an hconcat (vega-lite exports no name for it from its stable entry). */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

function lossPanel(title: string | undefined, rows: Point[], domain: string[], log: boolean, width: number): Panel {
  return {
    ...(title ? { title } : {}),
    width,
    height: HEIGHT,
    data: { values: rows },
    mark: POINT,
    encoding: {
      ...EPOCH_ENCODING,
      y: {
        ...VALUE_Y,
        title: log ? 'loss per sample (log scale)' : 'per sample',
        scale: log ? { type: 'log' } : { zero: false },
      },
      // One colour per curve across both panels, in the order of lossSeries.
      color: { field: 'series', type: 'nominal', title: null, scale: { domain }, legend: { orient: 'bottom', labelLimit: 240 } },
    },
  };
}

/**
 * Loss per sample per epoch: training and validation data loss on one log
 * axis; the regularizer terms, when there are any, in a second panel on a
 * linear axis (they differ from the data loss by orders of magnitude, and the
 * discriminative term is negative).
 */
export function lossChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const { log, linear } = lossSeries(metrics);
  const domain = [...log, ...linear].map(([name]) => name);
  const two = log.length > 0 && linear.length > 0;
  const panels: Panel[] = [];
  if (log.length > 0) panels.push(lossPanel(two ? 'data loss and total' : undefined, longFormat('loss', metrics, log), domain, true, two ? 380 : WIDTH));
  if (linear.length > 0) panels.push(lossPanel(two ? 'regularizer terms' : undefined, longFormat('loss', metrics, linear), domain, false, two ? 300 : WIDTH));
  return { title: 'Loss per sample', hconcat: panels };
}

export function accuracyChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const rows = longFormat('accuracy', metrics, [
    ['train', 'train_accuracy'],
    ['validation', 'val_accuracy'],
  ]);
  return epochLines('Accuracy per epoch', rows, { title: 'accuracy', format: '.1%' });
}

/**
 * Seconds per epoch (training, and scoring the validation split when there is
 * one, stacked bars) and GFLOP/s (line, right axis).
 */
export function timingChart(metrics: readonly EpochMetrics[]): TopLevelSpec {
  const validated = metrics.some((m) => m.val_accuracy !== null);
  const parts = validated ? ['training', 'validation'] : ['training'];
  const seconds = metrics.flatMap((m) => [
    { epoch: m.epoch, part: 'training', seconds: m.seconds },
    ...(validated ? [{ epoch: m.epoch, part: 'validation', seconds: m.eval_seconds }] : []),
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
          color: { field: 'part', type: 'nominal', title: null, scale: { domain: parts, range: ['#4c78a8', '#9ecae9'] }, legend: { orient: 'bottom' } },
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

/** What the classes are called on axes and titles: MNIST's ten are digits, other models' outputs (and named classes) are classes. */
const classWord = (O: number, names?: readonly string[]): string => (O === 10 && !isNamed(names) ? 'digit' : 'class');

/** Class names other than the indices themselves (data.preset: fashion-mnist, emnist-letters, ...). */
const isNamed = (names?: readonly string[]): names is readonly string[] => names !== undefined && names.some((s, k) => s !== String(k));

/** An axis that labels class index k with names[k] (the data keep the indices). */
const namedAxis = (names?: readonly string[]): { labelExpr?: string } =>
  isNamed(names) ? { labelExpr: `${JSON.stringify(names)}[datum.value]` } : {};

/** Up to this many classes a confusion cell holds its count as text, and the zero cells are drawn. */
const CONFUSION_TEXT_MAX = 20;

/**
 * Heatmap of the confusion matrix with the counts written in; a symlog colour
 * scale so the few errors still show beside the diagonal. With many classes
 * (a 300-output model) the cells shrink and only the non-zero ones are drawn,
 * their count in the tooltip: O^2 cells of text would not fit, nor load.
 * `weights` (which weights were scored) is the subtitle.
 */
export function confusionChart(confusion: readonly number[][], weights: string, names?: readonly string[]): TopLevelSpec {
  const O = confusion.length;
  const word = classWord(O, names);
  const dense = O <= CONFUSION_TEXT_MAX;
  const rows = confusion.flatMap((row, t) => row.flatMap((count, p) => (dense || count > 0 ? [{ true: t, predicted: p, count }] : [])));
  const max = rows.reduce((m, r) => Math.max(m, r.count), 1);
  const cell = dense ? Math.max(26, Math.min(42, Math.floor(420 / O))) : Math.max(2, Math.floor(600 / O));
  const axis = { labelAngle: isNamed(names) ? -45 : 0, labelOverlap: true, ...namedAxis(names) } as const;
  const rect = {
    mark: 'rect',
    encoding: { color: { field: 'count', type: 'quantitative', scale: { type: 'symlog', scheme: 'blues' }, legend: null } },
  } as const;
  const text = {
    mark: { type: 'text', fontSize: cell > 34 ? 11 : 9 },
    encoding: {
      text: { field: 'count', type: 'quantitative' },
      color: { condition: { test: `datum.count > ${Math.sqrt(max)}`, value: 'white' }, value: '#222' },
    },
  } as const;
  // Every class on both axes, also those no sample was or was predicted as.
  const domain = Array.from({ length: O }, (_, k) => k);
  return {
    title: { text: `Confusion matrix (rows: true ${word}, columns: predicted)`, subtitle: weights },
    width: cell * O,
    height: cell * O,
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', scale: { domain }, axis: { orient: 'top', ...axis } },
      y: { field: 'true', type: 'ordinal', scale: { domain }, title: `true ${word}`, axis },
    },
    layer: dense ? [rect, text] : [rect],
  };
}

/** Precision and recall per class as dots (the differences are a few points: bars from 0 would hide them). */
export function perClassChart(perClass: readonly ClassFigures[], weights: string): TopLevelSpec {
  const names = perClass.map((k) => k.name);
  const rows = perClass.flatMap((k) => [
    { digit: k.digit, measure: 'precision', value: k.precision },
    { digit: k.digit, measure: 'recall', value: k.recall },
  ]);
  const word = classWord(perClass.length, names);
  return {
    title: { text: `Precision and recall per ${word}`, subtitle: weights },
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'point', filled: true, size: perClass.length > CONFUSION_TEXT_MAX ? 20 : 80 },
    encoding: {
      x: { field: 'digit', type: 'ordinal', title: word, axis: { labelAngle: isNamed(names) ? -45 : 0, labelOverlap: true, ...namedAxis(names) } },
      y: { field: 'value', type: 'quantitative', scale: { zero: false }, axis: { format: '.1%' }, title: null },
      color: { field: 'measure', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      shape: { field: 'measure', type: 'nominal', title: null },
    },
  };
}
