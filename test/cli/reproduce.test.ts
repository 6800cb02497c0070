import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkThresholds, parseReproduceArgs } from '../../src/cli/reproduce.js';
import type { RowResult, Table } from '../../src/reproduce/table.js';
import { cli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const argv = (...args: string[]): string[] => ['node', 'mlp-reproduce', ...args];

describe('mlp-reproduce arguments', () => {
  it('defaults: all rows, 5 seeds, one run at a time', () => {
    const o = parseReproduceArgs(argv());
    expect(o).toMatchObject({ only: [], seeds: 5, jobs: 1, table: 'configs/table.yaml', out: 'results', seedsGiven: false });
  });

  it('--only takes comma lists and repeats; --seeds and --jobs positive integers', () => {
    const o = parseReproduceArgs(argv('--only', 'a,b', '--only', ' c ', '--seeds', '3', '--jobs', '2'));
    expect(o.only).toEqual(['a', 'b', 'c']);
    expect(o.seeds).toBe(3);
    expect(o.seedsGiven).toBe(true);
    expect(o.jobs).toBe(2);
  });

  it.each([['0'], ['-1'], ['2.5'], ['many']])('--seeds %s is refused', (value) => {
    const parse = (): unknown => parseReproduceArgs(argv('--seeds', value));
    // commander prints the message on stderr too (as the CLI does)
    expect(parse).toThrow(CommanderError);
    expect(parse).toThrow(`option '--seeds <k>' argument '${value}' is invalid. expected a positive integer`);
  });
});

function result(name: string, accuracies: number[]): RowResult {
  return {
    name,
    runs: accuracies.map((a, i) => ({ seed: i + 1, test_accuracy: a, epochs: 1, train_seconds: 1, total_seconds: 1, run_dir: '' })),
  } as RowResult;
}

describe('checkThresholds', () => {
  const ci = [
    { name: 'a', seeds: 2, threshold: 0.98, derived_from: { runs: [0.981], source: 'x' } },
    { name: 'b', seeds: 1, threshold: 0.9, derived_from: { runs: [0.95], source: 'x' } },
  ];

  it('passes when every run is at or above its row threshold', () => {
    const r = checkThresholds(ci, [result('a', [0.98, 0.985]), result('b', [0.91])]);
    expect(r.failed).toBe(false);
    expect(r.lines).toEqual([
      'ok   a seed 1: test 98.00% >= threshold 98.00%',
      'ok   a seed 2: test 98.50% >= threshold 98.00%',
      'ok   b seed 1: test 91.00% >= threshold 90.00%',
    ]);
  });

  it('fails when one run falls below', () => {
    const r = checkThresholds(ci, [result('a', [0.985, 0.9799]), result('b', [0.91])]);
    expect(r.failed).toBe(true);
    expect(r.lines[1]).toBe('FAIL a seed 2: test 97.99% < threshold 98.00%');
  });
});

describe('mlp-reproduce end to end (tiny rows: 500 images, 2 epochs)', () => {
  const tmp = useTempFiles('mlp-reproduce-');
  const tiny = (hidden: number): string =>
    `# a tiny row for the test\nmodel:\n  layers: [784, ${hidden}, 10]\ndata:\n  limit: 500\ntraining:\n  epochs: 2\n  threads: 1\n  lr_schedule:\n    warmup_steps: 10\n`;
  tmp.write('tiny-a.yaml', tiny(16));
  tmp.write('tiny-b.yaml', tiny(8));
  tmp.write(
    'table.yaml',
    'rows:\n  - name: tiny-a\n    config: tiny-a.yaml\n    published: { accuracy: 0.5, source: "nobody" }\n  - name: tiny-b\n    config: tiny-b.yaml\n',
  );
  const table = join(tmp.dir, 'table.yaml');
  const out = join(tmp.dir, 'results');
  const runs = join(tmp.dir, 'runs');

  it('runs the seeds as real mlp-train runs and writes table.json/table.md from them', () => {
    const r = cli('mlp-reproduce', ['--table', table, '--only', 'tiny-a', '--seeds', '2', '--jobs', '2', '--out', out, '--runs', runs]);
    expect(r.stderr).toContain('tiny-a seed 2: test');
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(join(out, 'table.json'), 'utf8')) as Table;
    expect(t.rows.map((row) => row.name)).toEqual(['tiny-a']);
    const row = t.rows[0];
    // each run's accuracy is the one its own run folder reports
    const accs = [1, 2].map((s) => {
      const summary = JSON.parse(readFileSync(join(runs, 'tiny-a', `seed-${s}`, 'summary.json'), 'utf8')) as { test_accuracy: number };
      return summary.test_accuracy;
    });
    expect(row.runs.map((x) => x.test_accuracy)).toEqual(accs);
    expect(row.test_accuracy.mean).toBeCloseTo((accs[0] + accs[1]) / 2, 12);
    expect(accs[0]).not.toBe(accs[1]); // different seeds, different runs
    expect(row.threads).toBe(1);
    expect(row.epochs).toBe(2);
    const md = readFileSync(join(out, 'table.md'), 'utf8');
    expect(r.stdout).toBe(md);
    expect(md).toContain('| tiny-a | 784-16-10 sigmoid/sigmoid mse');
  });

  it('--only another row adds it and keeps the first', () => {
    const r = cli('mlp-reproduce', ['--table', table, '--only', 'tiny-b', '--seeds', '1', '--out', out, '--runs', runs]);
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(join(out, 'table.json'), 'utf8')) as Table;
    expect(t.rows.map((row) => [row.name, row.seeds.length])).toEqual([
      ['tiny-a', 2],
      ['tiny-b', 1],
    ]);
  });

  it('--ci checks the thresholds: exit 1 with a FAIL line below, 0 above', () => {
    const ci = (thr: number): string =>
      tmp.write(
        `ci-${thr}.yaml`,
        `table: table.yaml\nrows:\n  - name: tiny-b\n    seeds: 1\n    threshold: ${thr}\n    derived_from: { runs: [0.5], source: "test" }\n`,
      );
    const fail = cli('mlp-reproduce', ['--ci', ci(0.999), '--runs', runs]);
    expect(fail.status).toBe(1);
    expect(fail.stderr).toMatch(/FAIL tiny-b seed 1: test \d+\.\d\d% < threshold 99\.90%/);
    const pass = cli('mlp-reproduce', ['--ci', ci(0.05), '--runs', runs]);
    expect(pass.stderr).toMatch(/ok {3}tiny-b seed 1: test \d+\.\d\d% >= threshold 5\.00%/);
    expect(pass.status).toBe(0);
    expect(existsSync(join(runs, 'table.json'))).toBe(true); // the CI's table goes beside its runs, not into results/
  });

  it.each([
    [['--only', 'tiny-c'], `error: --only: unknown row "tiny-c" (rows of ${table}: tiny-a, tiny-b)\n`],
    [['--only', 'tiny-a', '--set', 'training.lr=-1'], `error: --set: training.lr: expected a positive number, got -1\n`],
  ])('bad arguments: one line, exit 1 (%j)', (args, message) => {
    const r = cli('mlp-reproduce', ['--table', table, '--out', out, '--runs', runs, ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(message);
  });
});
