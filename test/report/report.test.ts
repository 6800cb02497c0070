// The run report of a small real run: every chart present and well-formed XML,
// the numbers in the charts equal to metrics.jsonl and to mlp-eval, and a
// report.html that needs no network.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { EpochMetrics } from '../../src/train/state.js';
import { encodeSafetensors } from '../../src/output/safetensors.js';
import { lossSeries } from '../../src/report/charts.js';
import { terminalChart } from '../../src/report/terminal.js';
import { cli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const TRAINING_CHARTS = ['loss', 'accuracy', 'timing'];
const EVALUATION_CHARTS = ['confusion', 'per-class', 'misclassified', 'weights'];
/** The test set scored with the best-validation weights too (a run with a validation split). */
const BEST_CHARTS = ['confusion-best', 'per-class-best', 'misclassified-best'];

/** Well-formed XML by a real parser (unclosed tags, bad attributes, stray '&' all fail), with <svg> at the root. */
function expectValidSvg(svg: string, name: string): void {
  const result = XMLValidator.validate(svg);
  expect(result, `${name}: ${JSON.stringify(result)}`).toBe(true);
  expect(svg.trimStart().startsWith('<svg'), name).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>'), name).toBe(true);
}

/** aria-labels of the points of a per-epoch chart: "<what>, <series>, epoch <k>: <value>". */
function pointLabels(svg: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of svg.matchAll(/aria-label="([a-z]+), ([^"]+), epoch (\d+): ([^"]+)"/g)) out.set(`${m[2]}@${m[3]}`, Number(m[4]));
  return out;
}

describe('report.html and report/*.svg of a small run', () => {
  const files = useTempFiles('mlp-mnist-report-');
  const run = join(files.dir, 'run');
  const cfg = files.write(
    'small.yaml',
    [
      'data: {limit: 2000, validation: 300}',
      'model: {layers: [784, 32, 10]}',
      'regularization: {l2: 0.0001, discriminative: 0.01}', // every loss term on, so every curve must be drawn
      'training: {epochs: 3, batch_size: 20, lr: 0.5}',
      '',
    ].join('\n'),
  );
  const train = cli('mlp-train', ['--config', cfg, '--out', run]);
  const metrics: EpochMetrics[] = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const chart = (name: string): string => readFileSync(join(run, 'report', `${name}.svg`), 'utf8');
  const html = readFileSync(join(run, 'report.html'), 'utf8');

  it('mlp-train writes the report after the weights and says where', () => {
    expect(train.status).toBe(0);
    expect(train.stderr).toMatch(/^report {5}.*report\.html \(\d+\.\d s\)$/m);
    expect(existsSync(join(run, 'model.safetensors'))).toBe(true);
    // not a terminal: no chart in the log
    expect(train.stderr).not.toMatch(/training loss per sample, epochs/);
  });

  it('every chart is there as a standalone, well-formed SVG, and inline in report.html', () => {
    const all = [...TRAINING_CHARTS, ...EVALUATION_CHARTS, ...BEST_CHARTS];
    expect(readdirSync(join(run, 'report')).sort()).toEqual(all.map((n) => `${n}.svg`).sort());
    for (const name of all) {
      expectValidSvg(chart(name), `${name}.svg`);
      const inline = new RegExp(`<div class="chart" id="chart-${name}">(<svg[\\s\\S]*?</svg>)</div>`).exec(html);
      expect(inline, `chart-${name} in report.html`).not.toBeNull();
      expectValidSvg(inline![1], `inline ${name}`);
    }
  });

  it('the loss chart draws every term at every epoch, with the values of metrics.jsonl', () => {
    const points = pointLabels(chart('loss'));
    const { log, linear } = lossSeries(metrics);
    // regularizers on: the total differs from the data loss, so it is drawn; the terms on their own linear panel
    expect(log.map(([name]) => name)).toEqual(['data (train)', 'data (validation)', 'total (train)']);
    expect(linear.map(([name]) => name)).toEqual(['discriminative (train)', 'L2 (train)']);
    const series = [...log, ...linear];
    for (const [name, key] of series) {
      for (const m of metrics) expect(points.get(`${name}@${m.epoch}`), `${name} epoch ${m.epoch}`).toBe(m[key]);
    }
    expect(points.size).toBe(series.length * metrics.length);
  });

  it('the accuracy chart holds train and validation accuracy of metrics.jsonl', () => {
    const points = pointLabels(chart('accuracy'));
    for (const m of metrics) {
      expect(points.get(`train@${m.epoch}`)).toBe(m.train_accuracy);
      expect(points.get(`validation@${m.epoch}`)).toBe(m.val_accuracy);
    }
  });

  it('the timing chart holds the seconds per epoch of metrics.jsonl', () => {
    const seconds = [...chart('timing').matchAll(/aria-label="epoch: (\d+); seconds: ([\d.e-]+); part: training"/g)];
    expect(seconds.map((m) => Number(m[1]))).toEqual(metrics.map((m) => m.epoch));
    // vega prints 12 significant digits
    seconds.forEach((m, k) => expect(Number(m[2])).toBeCloseTo(metrics[k].seconds, 9));
  });

  it('the confusion heatmap and the per-class table equal mlp-eval --json on the same weights', () => {
    const e = JSON.parse(cli('mlp-eval', ['--weights', join(run, 'model.safetensors'), '--json']).stdout);
    const cells = [...chart('confusion').matchAll(/aria-label="predicted: (\d); true digit: (\d); count: (\d+)"/g)];
    expect(cells).toHaveLength(200); // each cell twice: its rect and its count
    for (const [, p, t, count] of cells) expect(Number(count), `true ${t} predicted ${p}`).toBe(e.confusion[Number(t)][Number(p)]);
    const perClass = /<table id="per-class">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const rows = [...perClass.matchAll(/<tr><td>(\d)<\/td><td>([\d.]+)%<\/td><td>([\d.]+)%<\/td><td>(\d+)<\/td><\/tr>/g)];
    expect(rows).toHaveLength(10);
    for (const [, digit, precision, recall, support] of rows) {
      const k = e.per_class[Number(digit)];
      expect(precision).toBe((100 * k.precision).toFixed(2));
      expect(recall).toBe((100 * k.recall).toFixed(2));
      expect(Number(support)).toBe(k.support);
    }
  });

  it('draws the misclassified digits (true -> predicted) and one picture per hidden unit', () => {
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    const wrong = Math.round((1 - summary.test_accuracy) * summary.test_samples);
    const wrongSvg = chart('misclassified');
    const tiles = (wrongSvg.match(/<image /g) ?? []).length;
    expect(tiles).toBe(Math.min(96, wrong));
    expect(wrongSvg).toContain(`${wrong} of 10000 test digits misclassified`);
    const captions = [...wrongSvg.matchAll(/<title>test sample (\d+): true (\d), predicted (\d)<\/title>/g)];
    expect(captions).toHaveLength(tiles);
    for (const [, , t, p] of captions) expect(t).not.toBe(p);
    expect((chart('weights').match(/<image /g) ?? []).length).toBe(32); // 784-32-10: 32 hidden units
  });

  it('the test section scores the last-epoch and the best-validation weights, each under its label', () => {
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    const lastLabel = `model.safetensors (epoch ${metrics.length}, the last epoch)`;
    const bestLabel = `best.safetensors (epoch ${summary.best.epoch}, best validation accuracy)`;
    const table = /<table id="weights-compared">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const rows = [...table.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)].map((m) => m.slice(1));
    expect(rows).toEqual([
      [lastLabel, `${(100 * summary.test_accuracy).toFixed(2)}%`, summary.test_loss.toFixed(4)],
      [bestLabel, `${(100 * summary.best.test_accuracy).toFixed(2)}%`, summary.best.test_loss.toFixed(4)],
    ]);
    const bestAt = html.indexOf('<div class="scored" id="scored-best">');
    expect(html.slice(html.indexOf('<div class="scored" id="scored">'), bestAt)).toContain(`<h3>${lastLabel}</h3>`);
    expect(html.slice(bestAt)).toContain(`<h3>${bestLabel}</h3>`);
    expect(html.slice(bestAt)).toContain(`<b>${(100 * summary.best.test_accuracy).toFixed(2)}%</b><span>test accuracy</span>`);
    expect(chart('confusion-best')).toContain(bestLabel);
  });

  it('report.html is self-contained: no URL, no script, no external stylesheet or image', () => {
    const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:'); // base64 may hold '//'
    expect(text).not.toMatch(/https?:|\/\/[a-z]|www\./i);
    expect(text).not.toMatch(/<script|<link|<iframe|<object|<embed|@import|url\(/i);
    for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) expect(m[1]).toMatch(/^data:image\/png;base64,/);
    // the metrics table repeats metrics.jsonl, one row per epoch
    expect((html.match(/<tbody>[\s\S]*?<\/tbody>/)?.[0].match(/<tr>/g) ?? []).length).toBe(metrics.length);
    expect(html).toContain(`<pre id="config">`);
  });

  it('mlp-eval --report writes the evaluation half for any weights file', () => {
    const out = join(files.dir, 'eval-report');
    const r = cli('mlp-eval', ['--weights', join(run, 'best.safetensors'), '--report', out]);
    expect(r.status).toBe(0);
    expect(readdirSync(join(out, 'report')).sort()).toEqual(EVALUATION_CHARTS.map((n) => `${n}.svg`).sort());
    const page = readFileSync(join(out, 'report.html'), 'utf8');
    expect(page).toContain('best.safetensors');
    expect(page).not.toContain('id="training"');
  });

  it('mlp-eval --report into a path blocked by a file: one line naming it, exit 1', () => {
    const blocker = files.write('blocker', 'not a folder');
    const r = cli('mlp-eval', ['--weights', join(run, 'model.safetensors'), '--report', blocker, '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${join(blocker, 'report')}: cannot create the folder: not a directory (ENOTDIR, stat)\n`);
  });
});

describe('the report of a run without a regularizer or a validation split', () => {
  const files = useTempFiles('mlp-mnist-report-plain-');
  const run = join(files.dir, 'run');
  const cfg = files.write('plain.yaml', 'data: {limit: 1000}\nmodel: {layers: [784, 16, 10]}\ntraining: {epochs: 2, batch_size: 20, lr: 0.5}\n');
  const train = cli('mlp-train', ['--config', cfg, '--out', run]);
  const chart = (name: string): string => readFileSync(join(run, 'report', `${name}.svg`), 'utf8');

  it('draws one loss curve (the data loss: no "total" repeating it), and no validation or evaluation legend entry', () => {
    expect(train.status).toBe(0);
    expect([...pointLabels(chart('loss')).keys()]).toEqual(['data (train)@1', 'data (train)@2']);
    expect(chart('loss')).toContain('loss per sample (log scale)');
    expect(chart('timing')).not.toMatch(/evaluation|validation/);
    expect(chart('accuracy')).not.toMatch(/validation/);
  });

  it('scores only the last-epoch weights, saying so', () => {
    expect(readdirSync(join(run, 'report')).sort()).toEqual([...TRAINING_CHARTS, ...EVALUATION_CHARTS].map((n) => `${n}.svg`).sort());
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('<h3>model.safetensors (epoch 2, the last epoch)</h3>');
    expect(html).not.toMatch(/id="weights-compared"|best\.safetensors/);
  });
});

describe('the report of a 300-output model', () => {
  const files = useTempFiles('mlp-mnist-report-300-');

  it('mlp-train: captions the predicted classes past 255 as they are, as mlp-eval counts them', () => {
    const run = join(files.dir, 'run');
    // seeded: after one epoch this model predicts classes 68, 205 and 272 among the first misclassified digits
    const cfg = files.write('wide.yaml', 'data: {limit: 1000, validation: 200}\nmodel: {layers: [784, 32, 300]}\ntraining: {epochs: 1}\n');
    const train = cli('mlp-train', ['--config', cfg, '--out', run]);
    expect(train.status, train.stderr).toBe(0);
    const e = JSON.parse(cli('mlp-eval', ['--weights', join(run, 'model.safetensors'), '--json']).stdout);
    const predictedBy = new Set<number>();
    for (const row of e.confusion as number[][]) row.forEach((count, p) => count > 0 && predictedBy.add(p));
    for (const name of ['misclassified', 'misclassified-best']) {
      const svg = readFileSync(join(run, 'report', `${name}.svg`), 'utf8');
      const tiles = [...svg.matchAll(/<title>test sample \d+: true (\d+), predicted (\d+)<\/title>[\s\S]*?text-anchor="middle">([^<]*)<\/text>/g)];
      expect(tiles.length).toBe(96);
      for (const [, t, p, caption] of tiles) expect(caption).toBe(`${t} → ${p}`);
      // as bytes, 272 read 16
      expect(tiles.some(([, , p]) => Number(p) > 255), name).toBe(true);
      if (name === 'misclassified') for (const [, , p] of tiles) expect(predictedBy.has(Number(p)), `class ${p}`).toBe(true);
    }
  });

  it('mlp-eval --report: weights that predict class 271 for every digit are captioned "<digit> → 271"', () => {
    const O = 300;
    const bias = new Float32Array(O);
    bias[271] = 5; // every output sigmoid(0) = 0.5 but class 271's, sigmoid(5)
    const weights = files.write('predicts-271.safetensors', encodeSafetensors([
      ['layers.0.weight', { shape: [2, 784], data: new Float32Array(2 * 784) }],
      ['layers.0.bias', { shape: [2], data: new Float32Array(2) }],
      ['layers.1.weight', { shape: [O, 2], data: new Float32Array(O * 2) }],
      ['layers.1.bias', { shape: [O], data: bias }],
    ]));
    const out = join(files.dir, 'eval-271');
    const r = cli('mlp-eval', ['--weights', weights, '--report', out, '--quiet']);
    expect(r.status).toBe(0);
    const svg = readFileSync(join(out, 'report', 'misclassified.svg'), 'utf8');
    const captions = [...svg.matchAll(/text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1]);
    // the first five test labels are 7, 2, 1, 0, 4
    expect(captions.slice(0, 5)).toEqual(['7 → 271', '2 → 271', '1 → 271', '0 → 271', '4 → 271']);
    expect(captions.every((c) => c.endsWith(' → 271'))).toBe(true);
    expect(svg).toContain('<title>test sample 0: true 7, predicted 271</title>');
    expect(readFileSync(join(out, 'report', 'confusion.svg'), 'utf8')).toContain('aria-label="predicted: 271; true class: 7; count: 1028"');
  });
});

describe('terminalChart', () => {
  const epoch = (k: number, loss: number, acc: number, val: number | null): EpochMetrics => ({
    epoch: k, lr: 1, loss, loss_data: loss, loss_discriminative: 0, loss_l2: 0, tr_sw: null, tr_sb: null,
    train_accuracy: acc, val_loss: null, val_accuracy: val, seconds: 1, eval_seconds: 0, gflops: 1,
  });

  it('plots the loss and the validation accuracy, labelled with their extremes', () => {
    const text = terminalChart([epoch(1, 0.5, 0.6, 0.7), epoch(2, 0.25, 0.8, 0.85), epoch(3, 0.125, 0.9, 0.95)]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('training loss per sample, epochs 1-3');
    expect(lines[1]).toMatch(/^ +0\.5000 [┤┼]/); // top of the axis: the largest loss
    expect(text).toMatch(/ +0\.1250 [┤┼]/);
    expect(text).toContain('validation accuracy, epochs 1-3');
    expect(text).toMatch(/95\.00% [┤┼]/);
    expect(text).toMatch(/70\.00% [┤┼]/);
  });

  it('uses the training accuracy without a validation split, and draws nothing for one epoch', () => {
    expect(terminalChart([epoch(1, 0.5, 0.6, null), epoch(2, 0.4, 0.7, null)])).toContain('training accuracy, epochs 1-2');
    expect(terminalChart([epoch(1, 0.5, 0.6, null)])).toBe('');
  });
});
