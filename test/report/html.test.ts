// The test section of report.html with two sets of weights: the last epoch's
// and the best validation epoch's, each with its figures, charts and
// per-class table under its own label, and one table comparing them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/mnist.js';
import { EVAL_CHUNK, Evaluator } from '../../src/eval/evaluate.js';
import { Mlp } from '../../src/model/mlp.js';
import { writeReport, type EvaluationHalf } from '../../src/report/report.js';
import { useTempFiles } from '../helpers/files.js';

const LAST = 'model.safetensors (epoch 3, the last epoch)';
const BEST = 'best.safetensors (epoch 2, best validation accuracy)';

// Four blank digits; the "last" weights predict 3 for everything (1 of 4 right),
// the "best" ones 7 (3 of 4 right).
const ds: Dataset = { name: 'test', n: 4, features: 784, images: new Uint8Array(4 * 784), labels: Uint8Array.of(7, 7, 7, 3) };
const model = new Mlp({ layers: [784, 2, 10], hidden: 'sigmoid', output: 'sigmoid' });

function scoreWith(k: number): { evaluation: ReturnType<Evaluator['run']>; predicted: Int32Array } {
  model.b[1].fill(0);
  model.b[1][k] = 5;
  const predicted = new Int32Array(ds.n);
  return { evaluation: new Evaluator(model, ds, 'mse', EVAL_CHUNK, 'blocked').run(predicted), predicted };
}
const best = scoreWith(7);
const last = scoreWith(3);

const half = (withBest: boolean): EvaluationHalf => ({
  weights: LAST, model, ds, ...last,
  ...(withBest ? { best: { label: BEST, ...best } } : {}),
});

describe('report.html with the last-epoch and the best-validation weights', () => {
  const files = useTempFiles('mlp-mnist-report-html-');

  it('writes both sets of charts, the best ones as *-best.svg', async () => {
    await writeReport(join(files.dir, 'both'), { title: 't', evaluation: half(true) });
    expect(readdirSync(join(files.dir, 'both', 'report')).sort()).toEqual([
      'confusion-best.svg', 'confusion.svg', 'misclassified-best.svg', 'misclassified.svg', 'per-class-best.svg', 'per-class.svg', 'weights.svg',
    ]);
    const svg = (name: string): string => readFileSync(join(files.dir, 'both', 'report', `${name}.svg`), 'utf8');
    expect(svg('confusion')).toContain(LAST);
    expect(svg('confusion-best')).toContain(BEST);
    expect(svg('misclassified')).toContain(`Misclassified digits: ${LAST}`);
    expect([...svg('misclassified').matchAll(/<title>test sample (\d): true (\d), predicted (\d)<\/title>/g)].map((m) => m.slice(1).join(' '))).toEqual([
      '0 7 3', '1 7 3', '2 7 3',
    ]);
    expect([...svg('misclassified-best').matchAll(/<title>test sample (\d): true (\d), predicted (\d)<\/title>/g)].map((m) => m.slice(1).join(' '))).toEqual([
      '3 3 7',
    ]);
  });

  it('shows each set under its label with its own figures, charts and per-class table, last epoch first', () => {
    const html = readFileSync(join(files.dir, 'both', 'report.html'), 'utf8');
    const lastAt = html.indexOf('<div class="scored" id="scored">');
    const bestAt = html.indexOf('<div class="scored" id="scored-best">');
    expect(lastAt).toBeGreaterThan(0);
    expect(bestAt).toBeGreaterThan(lastAt);
    const lastBlock = html.slice(lastAt, bestAt);
    const bestBlock = html.slice(bestAt, html.indexOf('</section>', bestAt));
    expect(lastBlock).toContain(`<h3>${LAST}</h3>`);
    expect(lastBlock).toContain('<b>25.00%</b><span>test accuracy</span>');
    expect(lastBlock).toContain('<b>3</b><span>misclassified</span>');
    expect(lastBlock).toContain('id="chart-confusion"');
    expect(lastBlock).toContain('<table id="per-class">');
    expect(bestBlock).toContain(`<h3>${BEST}</h3>`);
    expect(bestBlock).toContain('<b>75.00%</b><span>test accuracy</span>');
    expect(bestBlock).toContain('<b>1</b><span>misclassified</span>');
    for (const id of ['chart-confusion-best', 'chart-per-class-best', 'chart-misclassified-best']) expect(bestBlock).toContain(`id="${id}"`);
    expect(bestBlock).toContain('<table id="per-class-best">');
  });

  it('compares the two in one table: weights, accuracy, loss, misclassified', () => {
    const html = readFileSync(join(files.dir, 'both', 'report.html'), 'utf8');
    const table = /<table id="weights-compared">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    const rows = [...table.matchAll(/<tr>((?:<td>[^<]*<\/td>)+)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td>([^<]*)<\/td>/g)].map((c) => c[1]));
    expect(rows).toEqual([
      [LAST, '25.00%', last.evaluation.loss.toFixed(4), '3'],
      [BEST, '75.00%', best.evaluation.loss.toFixed(4), '1'],
    ]);
  });

  it('without best weights: one set, no comparison, no *-best charts', async () => {
    await writeReport(join(files.dir, 'one'), { title: 't', evaluation: half(false) });
    expect(readdirSync(join(files.dir, 'one', 'report')).sort()).toEqual(['confusion.svg', 'misclassified.svg', 'per-class.svg', 'weights.svg']);
    const html = readFileSync(join(files.dir, 'one', 'report.html'), 'utf8');
    expect(html).toContain(`<h3>${LAST}</h3>`);
    expect(html).not.toMatch(/id="weights-compared"|id="scored-best"|best\.safetensors/);
  });
});
