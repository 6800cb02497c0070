// The end-of-training chart for a terminal: loss and accuracy per epoch as
// asciichart line plots (one column per epoch, stretched to a readable width).
import { plot } from 'asciichart';
import type { EpochMetrics } from '../train/state.js';

const HEIGHT = 8;
const MIN_WIDTH = 40;

/** Each value repeated so that the series spans about MIN_WIDTH columns (asciichart draws one column per value). */
function stretch(values: number[]): number[] {
  const k = Math.max(1, Math.floor(MIN_WIDTH / values.length));
  return values.flatMap((v) => new Array<number>(k).fill(v));
}

/**
 * Two small plots as text: the training loss, and the validation accuracy
 * (the training accuracy when there is no validation split). '' with fewer
 * than two epochs: there is no line to draw.
 */
export function terminalChart(metrics: readonly EpochMetrics[]): string {
  if (metrics.length < 2) return '';
  const epochs = `epochs 1-${metrics.length}`;
  const hasVal = metrics.every((m) => m.val_accuracy !== null);
  const acc = metrics.map((m) => 100 * (hasVal ? (m.val_accuracy ?? 0) : m.train_accuracy));
  return [
    `training loss per sample, ${epochs}`,
    plot(stretch(metrics.map((m) => m.loss)), { height: HEIGHT, format: (x) => x.toFixed(4).padStart(9) }),
    `${hasVal ? 'validation' : 'training'} accuracy, ${epochs}`,
    plot(stretch(acc), { height: HEIGHT, format: (x) => `${x.toFixed(2)}%`.padStart(9) }),
  ].join('\n');
}
