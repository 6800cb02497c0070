import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

describe('mlp-train -> run folder -> mlp-eval, and the weights in Python', () => {
  let dir: string;
  let run: string;
  let trainOut: ReturnType<typeof cli>;

  beforeAll(() => {
    dir = tempDir();
    run = join(dir, 'run');
    const cfg = join(dir, 'small.yaml');
    writeFileSync(
      cfg,
      ['data: {limit: 3000, validation: 500}', 'model: {layers: [784, 64, 10]}', 'training: {epochs: 2, batch_size: 10, lr: 0.5}', ''].join('\n'),
    );
    trainOut = cli('mlp-train', ['--config', cfg, '--out', run, '--json']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and writes every file of the run folder', () => {
    expect(trainOut.stderr).not.toMatch(/error/);
    expect(trainOut.status).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'metrics.csv', 'model.safetensors', 'best.safetensors', 'summary.json']) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    expect(readdirTmp(run)).toEqual([]);
  });

  it('logs a start-up summary and one line per epoch on a non-terminal', () => {
    expect(trainOut.stderr).toMatch(/784-64-10 \(sigmoid hidden, sigmoid output\), 50,890 parameters/);
    expect(trainOut.stderr).toMatch(/differs from defaults: .*data.limit=3000/);
    const epochLines = trainOut.stderr.split('\n').filter((l) => /^epoch \d\/2 /.test(l));
    expect(epochLines).toHaveLength(2);
    expect(epochLines[1]).toMatch(/^epoch 2\/2  loss \d\.\d{4}  acc \d+\.\d\d%  val \d+\.\d\d%  \d+\.\d\d s  \d+\.\d GFLOP\/s$/);
  });

  it('metrics.jsonl and metrics.csv hold one row per epoch, and summary.json the final figures', () => {
    const rows = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.epoch)).toEqual([1, 2]);
    for (const key of ['loss', 'loss_data', 'loss_discriminative', 'loss_l2', 'train_accuracy', 'val_accuracy', 'seconds', 'gflops']) {
      expect(typeof rows[1][key], key).toBe('number');
    }
    const csv = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0].split(',')).toContain('val_accuracy');
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(JSON.parse(trainOut.stdout)).toEqual({ ...summary, run_dir: run }); // --json: summary.json and the run folder
    expect(summary.samples).toEqual({ train: 2500, validation: 500, test: 10000 });
    // Observed 87.63% on the 10,000 test images (2 epochs on 2,500 images).
    expect(summary.test_accuracy).toBeGreaterThan(0.85);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.model.layers).toEqual([784, 64, 10]);
    expect(config.training.lr).toBe(0.5);
    expect(config.training.momentum).toBe(defaultConfig().training.momentum); // defaults filled in
  });

  it('mlp-eval --json reports the test accuracy of summary.json, with a confusion matrix and per-class figures', () => {
    const r = cli('mlp-eval', ['--weights', join(run, 'model.safetensors'), '--json']);
    expect(r.status).toBe(0);
    const e = JSON.parse(r.stdout);
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(e.accuracy).toBe(summary.test_accuracy);
    expect(e.loss).toBeCloseTo(summary.test_loss, 10);
    expect(e.n).toBe(10000);
    expect(e.confusion).toHaveLength(10);
    expect(e.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(10000);
    const diag = e.confusion.reduce((s: number, row: number[], i: number) => s + row[i], 0);
    expect(diag / 10000).toBe(e.accuracy);
    expect(e.per_class[3]).toEqual(expect.objectContaining({ digit: 3, precision: expect.any(Number), recall: expect.any(Number) }));
  });

  it('mlp-eval prints a readable table, on stdout (a result: `> file` keeps it)', () => {
    const r = cli('mlp-eval', ['--weights', join(run, 'model.safetensors')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/test set  10000 samples: accuracy \d+\.\d\d%/);
    expect(r.stdout).toMatch(/confusion matrix \(rows: true digit, columns: predicted\)/);
    expect(r.stdout).toMatch(/digit  precision   recall  support/);
  });

  it('a plain Python safetensors reader (numpy) loads the weights and scores the same test accuracy', () => {
    const e = JSON.parse(cli('mlp-eval', ['--weights', join(run, 'model.safetensors'), '--json']).stdout);
    const py = spawnSync('python3', [join(ROOT, 'scripts', 'safetensors_check.py'), '--mnist-accuracy', join(run, 'model.safetensors')], {
      encoding: 'utf8',
    });
    expect(py.error, 'python3 must be installed').toBeUndefined();
    expect(py.stderr).toBe('');
    const out = JSON.parse(py.stdout);
    // numpy computes in float64, we in float32: a near-tie may flip at most a sample or two.
    expect(Math.abs(out.accuracy - e.accuracy)).toBeLessThanOrEqual(2 / 10000);
    expect(out.n).toBe(10000);
  });
});

/** Leftover temp files of the atomic writes. */
function readdirTmp(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp'));
}
