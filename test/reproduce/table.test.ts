import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { SeedRun } from '../../src/reproduce/run-seed.js';
import type { RowSpec } from '../../src/reproduce/spec.js';
import { describeSetting, mergeRows, renderMarkdown, rowResult, type RowResult } from '../../src/reproduce/table.js';

const run = (seed: number, acc: number, train = 30): SeedRun => ({
  seed,
  test_accuracy: acc,
  epochs: 20,
  train_seconds: train,
  total_seconds: train + 2,
  run_dir: `runs/x/seed-${seed}`,
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
    expect(md).toContain(`Machine: ${a.machine.cpu}, ${a.machine.cores} cores, Node ${process.version}.`);
  });
});
