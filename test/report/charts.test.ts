// The chart specs, checked as specs (which series, which panel, which scale)
// and as rendered SVG (where the points land): one data curve without a
// regularizer, train and validation on one log axis, no validation legend
// entry without a validation split, confusion matrices past 256 classes.
import { describe, expect, it } from 'vitest';
import { confusionChart, lossChart, lossSeries, timingChart } from '../../src/report/charts.js';
import { renderVegaLite } from '../../src/report/vega.js';
import type { EpochMetrics } from '../../src/train/state.js';

const epoch = (k: number, over: Partial<EpochMetrics> = {}): EpochMetrics => ({
  epoch: k, lr: 1, loss: 0.8 / 2 ** k, loss_data: 0.8 / 2 ** k, loss_discriminative: 0, loss_l2: 0, tr_sw: null, tr_sb: null,
  train_accuracy: 0.9, val_loss: null, val_accuracy: null, seconds: 1, eval_seconds: 0, gflops: 1, ...over,
});

/** Four epochs of data loss 0.4, 0.2, 0.1, 0.05 (halving); when asked, validation loss one epoch behind (0.8, 0.4, 0.2, 0.1). */
function run(opts: { validation?: boolean; l2?: number; discriminative?: number } = {}): EpochMetrics[] {
  return [1, 2, 3, 4].map((k) => {
    const data = 0.8 / 2 ** k;
    const l2 = opts.l2 ?? 0;
    const disc = opts.discriminative ?? 0;
    return epoch(k, {
      loss: data + l2 + disc, loss_data: data, loss_l2: l2, loss_discriminative: disc,
      ...(opts.validation ? { val_loss: 0.8 / 2 ** (k - 1), val_accuracy: 0.9, eval_seconds: 0.25 } : {}),
    });
  });
}

/** The parts of a panel these tests read. */
interface PanelView {
  title?: string;
  data: { values: Array<{ series: string; epoch: number; value: number }> };
  encoding: { y: { scale: Record<string, unknown> } };
}

function panels(metrics: EpochMetrics[]): PanelView[] {
  return (lossChart(metrics) as unknown as { hconcat: PanelView[] }).hconcat;
}

const seriesOf = (p: PanelView): string[] => [...new Set(p.data.values.map((r) => r.series))];

/** Rendered y of each point of the loss chart, by "<series>@<epoch>". */
function pointY(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /aria-label="loss, ([^"]+), epoch (\d+): [^"]+" role="graphics-symbol" aria-roledescription="point" transform="translate\([-\d.e]+,([-\d.e]+)\)"/g;
  for (const m of svg.matchAll(re)) out.set(`${m[1]}@${m[2]}`, Number(m[3]));
  return out;
}

describe('lossChart', () => {
  it('without a regularizer or validation: one panel, one curve (the data loss; no "total" repeating it), on a log axis', () => {
    const [p, ...rest] = panels(run());
    expect(rest).toHaveLength(0);
    expect(seriesOf(p)).toEqual(['data (train)']);
    expect(p.encoding.y.scale).toEqual({ type: 'log' });
    expect(p.data.values.map((r) => r.value)).toEqual([0.4, 0.2, 0.1, 0.05]);
  });

  it('with a validation split: training and validation loss in the same panel, so on the same y scale', () => {
    const [p, ...rest] = panels(run({ validation: true }));
    expect(rest).toHaveLength(0);
    expect(seriesOf(p)).toEqual(['data (train)', 'data (validation)']);
    expect(p.encoding.y.scale).toEqual({ type: 'log' });
  });

  it('with a regularizer: the total joins the log panel, the terms get a linear one', () => {
    const ps = panels(run({ validation: true, l2: 0.001, discriminative: -0.002 }));
    expect(ps.map((p) => [p.title, seriesOf(p), p.encoding.y.scale])).toEqual([
      ['data loss and total', ['data (train)', 'data (validation)', 'total (train)'], { type: 'log' }],
      ['regularizer terms', ['discriminative (train)', 'L2 (train)'], { zero: false }],
    ]);
  });

  it('a curve with a value <= 0 (a total pulled negative by the discriminative term) goes to the linear panel', () => {
    expect(lossSeries(run({ discriminative: -0.1 }))).toEqual({
      log: [['data (train)', 'loss_data']],
      linear: [['total (train)', 'loss'], ['discriminative (train)', 'loss_discriminative']],
    });
  });

  it('renders on a log axis: halving losses are equal steps, and equal train and validation values land at one height', async () => {
    const y = pointY(await renderVegaLite(lossChart(run({ validation: true }))));
    expect([...y.keys()].sort()).toEqual([1, 2, 3, 4].flatMap((k) => [`data (train)@${k}`, `data (validation)@${k}`]).sort());
    const train = [1, 2, 3, 4].map((k) => y.get(`data (train)@${k}`)!);
    const steps = train.slice(1).map((v, k) => v - train[k]);
    expect(steps[0]).toBeGreaterThan(10);
    // On a linear axis the steps would halve (0.2, 0.1, 0.05 of the range); on a log axis they are equal
    // up to vega's rounding of coordinates (about 1e-9 px).
    for (const s of steps) expect(Math.abs(s - steps[0])).toBeLessThan(1e-6);
    // validation at epoch k+1 equals train at epoch k (0.4, 0.2, 0.1): one scale for both
    for (const k of [1, 2, 3]) expect(y.get(`data (validation)@${k + 1}`)).toBeCloseTo(y.get(`data (train)@${k}`)!, 9);
    // no "total" point without a regularizer
    expect([...y.keys()].some((key) => key.startsWith('total'))).toBe(false);
  });
});

describe('timingChart', () => {
  const legendLabels = (svg: string): string[] =>
    [...svg.matchAll(/<g class="mark-text role-legend-label"[^>]*>([\s\S]*?)<\/g>/g)].flatMap((g) => [...g[1].matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]));

  it('without a validation split: training bars only, and no empty "evaluation" or "validation" legend entry', async () => {
    const svg = await renderVegaLite(timingChart(run()));
    expect(legendLabels(svg)).toEqual(['training']);
    expect(svg).not.toMatch(/evaluation|validation/);
  });

  it('with a validation split: training and validation seconds stacked, both in the legend', async () => {
    const svg = await renderVegaLite(timingChart(run({ validation: true })));
    expect(legendLabels(svg)).toEqual(['training', 'validation']);
    expect(svg).toContain('aria-label="epoch: 4; seconds: 0.25; part: validation"');
  });
});

describe('confusionChart', () => {
  interface ConfusionView {
    data: { values: Array<{ true: number; predicted: number; count: number }> };
    layer: unknown[];
    width: number;
    title: { text: string; subtitle: string };
  }

  it('ten digits: every cell with its count written in, and which weights in the subtitle', () => {
    const m = Array.from({ length: 10 }, (_, t) => Array.from({ length: 10 }, (_, p) => (t === p ? 90 : 1)));
    const spec = confusionChart(m, 'best.safetensors (epoch 2, best validation accuracy)') as unknown as ConfusionView;
    expect(spec.data.values).toHaveLength(100);
    expect(spec.layer).toHaveLength(2); // rect + text
    expect(spec.title).toEqual({ text: 'Confusion matrix (rows: true digit, columns: predicted)', subtitle: 'best.safetensors (epoch 2, best validation accuracy)' });
  });

  it('300 classes: only the non-zero cells, no text layer, a bounded size, and class 271 kept as 271', async () => {
    const m = Array.from({ length: 300 }, () => new Array<number>(300).fill(0));
    m[3][271] = 5;
    m[3][3] = 7;
    m[299][0] = 1;
    const spec = confusionChart(m, 'w') as unknown as ConfusionView;
    expect(spec.data.values).toEqual([{ true: 3, predicted: 3, count: 7 }, { true: 3, predicted: 271, count: 5 }, { true: 299, predicted: 0, count: 1 }]);
    expect(spec.layer).toHaveLength(1);
    expect(spec.width).toBe(600);
    expect(spec.title.text).toBe('Confusion matrix (rows: true class, columns: predicted)');
    const svg = await renderVegaLite(confusionChart(m, 'w'));
    expect(svg).toContain('aria-label="predicted: 271; true class: 3; count: 5"');
  });
});
