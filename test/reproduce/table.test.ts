import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { SeedRun } from '../../src/reproduce/run-seed.js';
import type { RowSpec } from '../../src/reproduce/spec.js';
import {
  describeData,
  describeSetting,
  mergeIntoTable,
  mergeRows,
  readTable,
  renderMarkdown,
  rowResult,
  type RowResult,
} from '../../src/reproduce/table.js';
import { useTempFiles } from '../helpers/files.js';

const FULL = { train: 60000, validation: 0, test: 10000 };

const run = (seed: number, acc: number, train = 30, samples = FULL): SeedRun => ({
  seed,
  test_accuracy: acc,
  epochs: 20,
  train_seconds: train,
  total_seconds: train + 2,
  run_dir: `runs/x/seed-${seed}`,
  samples,
});

const spec: RowSpec = {
  name: 'discriminative-1',
  config: 'discriminative-1.yaml',
  configPath: '/x/discriminative-1.yaml',
  published: { accuracy: 0.9728, source: 'issue 5 PyTorch, 3 seeds' },
  note: '',
};

const config = loadConfig('configs/discriminative-1-seed-blog.yaml', ['training.threads=1']);

describe('rowResult', () => {
  // seeds out of order, as a pool finishes them
  const r = rowResult(spec, config, [run(3, 0.973, 31), run(1, 0.971, 29), run(2, 0.975, 33)]);

  it('summarizes the seeds: mean, sd, min, max; runs sorted by seed', () => {
    expect(r.seeds).toEqual([1, 2, 3]);
    expect(r.test_accuracy.mean).toBeCloseTo(0.973, 12);
    expect(r.test_accuracy.sd).toBeCloseTo(0.002, 12); // deviations -2, +2, 0 thousandths: sqrt(8e-6 / 2)
    expect(r.test_accuracy.min).toBe(0.971);
    expect(r.test_accuracy.max).toBe(0.975);
  });

  it('times: mean training seconds per run, wall time of all runs; threads resolved', () => {
    expect(r.train_seconds_mean).toBeCloseTo(31, 12);
    expect(r.wall_seconds).toBeCloseTo(29 + 31 + 33 + 6, 12);
    expect(r.threads).toBe(1);
    expect(r.epochs).toBe(20);
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.machine.node).toBe(process.version);
  });

  it('records the data the runs used and no overrides when none were given', () => {
    expect(r.data).toEqual({ train: 60000, validation: 0, test: 10000, mnist: true });
    expect(r.overrides).toEqual([]);
  });

  it('records every --set override, as typed', () => {
    const sets = ['data.limit=5000', 'training.epochs=2'];
    const q = rowResult(spec, loadConfig('configs/discriminative-1-seed-blog.yaml', sets), [run(1, 0.9, 1, { ...FULL, train: 5000 })], sets);
    expect(q.overrides).toEqual(sets);
    expect(q.data).toEqual({ train: 5000, validation: 0, test: 10000, mnist: true });
    expect(q.setting).toMatch(/, 2 epochs$/);
  });

  it('describes the setting from the config itself', () => {
    expect(r.setting).toBe(
      '784-300-10 sigmoid/sigmoid mse, gamma 1 (seed blog gradient), batch 100, lr 1, zero output bias, 20 epochs',
    );
    expect(describeSetting(loadConfig('configs/seed-minibatch.yaml'))).toBe(
      '784-300-10 sigmoid/sigmoid mse, batch 100, lr 2 x0.3/10 ep, momentum 0.9, warm-up 600, 20 epochs',
    );
  });
});

describe('the table', () => {
  const a = rowResult({ ...spec, name: 'a' }, config, [run(1, 0.95), run(2, 0.96)]);
  const b = rowResult({ ...spec, name: 'b', published: null, note: '(note)' }, config, [run(1, 0.9)]);
  const b2: RowResult = { ...b, test_accuracy: { ...b.test_accuracy, mean: 0.5 } };

  it('merging replaces rows of the same name and keeps the table order', () => {
    expect(mergeRows([b, a], [], ['a', 'b']).map((r) => r.name)).toEqual(['a', 'b']);
    const merged = mergeRows([a, b], [b2], ['a', 'b']);
    expect(merged).toEqual([a, b2]);
    // a row no longer in the order goes last
    expect(mergeRows([a, { ...b, name: 'old' }], [], ['a']).map((r) => r.name)).toEqual(['a', 'old']);
  });

  it('renders one markdown line per row, percentages with 2 decimals', () => {
    const md = renderMarkdown({ rows: [a, b] });
    const lines = md.split('\n');
    expect(lines[0]).toMatch(/^\| row \| setting \| published \| ours: mean ± sd \(%\) \| min \| max \| seeds \|/);
    expect(lines[2]).toBe(
      `| a | ${a.setting} | 97.28 (issue 5 PyTorch, 3 seeds) | **95.50** ± 0.71 | 95.00 | 96.00 | 2 | 30.0 | 1 |`,
    );
    expect(lines[3]).toBe(`| b | ${b.setting} (note) | - | **90.00** ± 0.00 | 90.00 | 90.00 | 1 | 30.0 | 1 |`);
    expect(lines.slice(4)).toEqual([
      '',
      'Test accuracy on the test images after the last epoch; seeds 1..n (`model.seed`: init and shuffling).',
      'Data: 60,000 training images, 10,000 test images (MNIST).',
      `Machine: ${a.machine.cpu}, ${a.machine.cores} cores, Node ${process.version}.`,
      '',
    ]);
  });

  it('shows each row\'s overrides beside its setting, and the data of each group of rows in the footer', () => {
    const q: RowResult = {
      ...b,
      name: 'q',
      note: '',
      overrides: ['data.limit=5000', 'training.epochs=2'],
      data: { train: 5000, validation: 0, test: 10000, mnist: true },
    };
    const lines = renderMarkdown({ rows: [a, q] }).split('\n');
    expect(lines[3]).toBe(
      `| q | ${b.setting} (--set data.limit=5000 --set training.epochs=2) | - | **90.00** ± 0.00 | 90.00 | 90.00 | 1 | 30.0 | 1 |`,
    );
    expect(lines.slice(6, 8)).toEqual([
      'Data of a: 60,000 training images, 10,000 test images (MNIST).',
      'Data of q: 5,000 training images, 10,000 test images (MNIST).',
    ]);
  });

  it.each([
    [{ train: 60000, validation: 0, test: 10000, mnist: true }, '60,000 training images, 10,000 test images (MNIST)'],
    [{ train: 300, validation: 0, test: 10000, mnist: true }, '300 training images, 10,000 test images (MNIST)'],
    [{ train: 50000, validation: 10000, test: 10000, mnist: true }, '50,000 training images (10,000 more held out for validation), 10,000 test images (MNIST)'],
    [{ train: 1000, validation: 0, test: 200, mnist: false }, '1,000 training images, 200 test images'],
  ])('describeData %j', (data, text) => {
    expect(describeData({ ...a, data })).toBe(text);
  });
});

describe('table files', () => {
  const tmp = useTempFiles('mlp-table-files-');
  const a = rowResult({ ...spec, name: 'a' }, config, [run(1, 0.95)]);

  it('rows written before overrides and data were recorded read as the unchanged configs on full MNIST', () => {
    const { overrides: _o, data: _d, ...legacy } = a;
    const file = tmp.write('legacy.json', JSON.stringify({ rows: [legacy] }));
    expect(readTable(file).rows[0]).toEqual({ ...legacy, overrides: [], data: { train: 60000, validation: 0, test: 10000, mnist: true } });
  });

  it('mergeIntoTable merges into the folder\'s table.json and writes table.md from it', () => {
    const dir = join(tmp.dir, 'out');
    const b = { ...a, name: 'b' };
    mergeIntoTable(dir, [b], ['a', 'b']);
    const t = mergeIntoTable(dir, [a], ['a', 'b']);
    expect(t.rows.map((r) => r.name)).toEqual(['a', 'b']);
    expect(readTable(join(dir, 'table.json'))).toEqual(t);
    expect(readFileSync(join(dir, 'table.md'), 'utf8')).toBe(renderMarkdown(t));
  });
});
