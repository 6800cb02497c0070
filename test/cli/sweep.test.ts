// mlp-sweep and mlp-runs end to end, on this machine: the points as run
// folders, the comparison files, a second invocation that runs nothing, a
// Ctrl-C'd sweep resumed to the same weights as one never stopped, and the
// refusals. Tiny runs: 784-8-10 on 500 images.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, startCli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const tensorSha = (file: string): string => {
  const b = readFileSync(file);
  return createHash('sha256').update(b.subarray(8 + Number(b.readBigUInt64LE(0)))).digest('hex');
};
const lines = (text: string): string[] => text.trimEnd().split('\n');

interface Comparison {
  metric: string;
  keys: string[];
  rows: Array<{ name: string; settings: Record<string, string>; status: string; test_accuracy: number; epochs: number }>;
}

describe('mlp-sweep on this machine', () => {
  const tmp = useTempFiles('mlp-sweep-');
  const base = tmp.write('base.yaml', 'model:\n  layers: [784, 8, 10]\ndata:\n  limit: 500\ntraining:\n  epochs: 2\n');
  const grid = ['--config', base, '--grid', 'training.lr=0.5,2', '--grid', 'model.seed=1,2'];
  const names = ['lr-0.5_seed-1', 'lr-0.5_seed-2', 'lr-2_seed-1', 'lr-2_seed-2'];

  it('runs every point as a run folder, two at a time, and writes the comparison sorted by the metric', () => {
    const out = join(tmp.dir, 'grid');
    const r = cli('mlp-sweep', [...grid, '--out', out, '--jobs', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr)[0]).toBe(`mlp-sweep: 4 points, 2 at a time, ${'1 thread each'}; run folders and comparison in ${out}`);
    for (const n of names) {
      for (const f of ['model.safetensors', 'config.json', 'summary.json', 'metrics.jsonl']) expect(existsSync(join(out, n, f)), `${n}/${f}`).toBe(true);
    }
    const c = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')) as Comparison;
    expect(c.keys).toEqual(['training.lr', 'model.seed']);
    expect(c.rows.map((row) => row.name).sort()).toEqual(names);
    const acc = c.rows.map((row) => row.test_accuracy);
    expect([...acc].sort((a, b) => b - a)).toEqual(acc);
    for (const row of c.rows) {
      const summary = JSON.parse(readFileSync(join(out, row.name, 'summary.json'), 'utf8')) as { test_accuracy: number };
      expect(row.test_accuracy).toBe(summary.test_accuracy);
      const config = JSON.parse(readFileSync(join(out, row.name, 'config.json'), 'utf8')) as { training: { lr: number }; model: { seed: number } };
      expect(String(config.training.lr)).toBe(row.settings['training.lr']);
      expect(String(config.model.seed)).toBe(row.settings['model.seed']);
    }
    expect(r.stdout).toBe(readFileSync(join(out, 'comparison.md'), 'utf8'));
    const html = readFileSync(join(out, 'comparison.html'), 'utf8');
    expect(html.match(/<svg/g)?.length).toBe(2); // loss and training accuracy (no validation split)
    for (const n of names) expect(html).toContain(n);

    const again = cli('mlp-sweep', [...grid, '--out', out, '--jobs', '2']);
    expect(again.status).toBe(0);
    expect(again.stderr.match(/\(finished before\)/g)).toHaveLength(4);
    expect(again.stderr).not.toMatch(/started/);
    expect(again.stdout).toBe(r.stdout);
  });

  it('a folder that holds another run is refused, naming it; a bad --grid value names the point', () => {
    const out = join(tmp.dir, 'grid');
    const other = cli('mlp-sweep', [...grid, '--set', 'training.batch_size=50', '--out', out]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/^error: .*grid\/lr-0\.5_seed-1: holds another run than lr-0\.5_seed-1: training\.batch_size 100 \(wanted 50\); use another --out, or --force to start it over$/m);
    const bad = cli('mlp-sweep', ['--config', base, '--grid', 'model.hidden=relu,swish', '--out', join(tmp.dir, 'bad')]);
    expect(bad.status).toBe(1);
    expect(lines(bad.stderr)).toHaveLength(1);
    expect(bad.stderr).toMatch(/^error: point hidden-swish: --set: model\.hidden: /);
    expect(existsSync(join(tmp.dir, 'bad', 'hidden-relu'))).toBe(false); // validated before any run
  });

  it('Ctrl-C stops the runs with their checkpoints; the same command resumes them to the weights of an unstopped sweep', async () => {
    const long = tmp.write('long.yaml', 'model:\n  layers: [784, 16, 10]\ndata:\n  limit: 3000\ntraining:\n  epochs: 200\n'); // long enough to stop mid-run
    const args = ['--config', long, '--grid', 'model.seed=1,2', '--jobs', '2'];
    const whole = join(tmp.dir, 'whole');
    expect(cli('mlp-sweep', [...args, '--out', whole]).status).toBe(0);

    const cut = join(tmp.dir, 'cut');
    const started = (n: string): boolean => existsSync(join(cut, n, 'metrics.jsonl')) && statSync(join(cut, n, 'metrics.jsonl')).size > 0;
    let sent = false;
    const exit = await startCli('mlp-sweep', [...args, '--out', cut], {
      onStderr: (_text, kill) => {
        if (sent) return;
        const poll = setInterval(() => {
          if (sent || !(started('seed-1') && started('seed-2'))) return;
          sent = true;
          clearInterval(poll);
          kill('SIGINT');
        }, 20);
      },
    });
    expect(exit.code, exit.stderr).toBe(130);
    expect(exit.stderr).toMatch(/seed-1: stopped \(exit 130\)/);
    expect(existsSync(join(cut, 'seed-1', 'summary.json'))).toBe(false);
    expect(existsSync(join(cut, 'comparison.md'))).toBe(true); // the comparison so far

    const resumed = cli('mlp-sweep', [...args, '--out', cut]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr.match(/: resumed, pid/g)).toHaveLength(2);
    for (const n of ['seed-1', 'seed-2']) expect(tensorSha(join(cut, n, 'model.safetensors')), n).toBe(tensorSha(join(whole, n, 'model.safetensors')));
  });
});

describe('mlp-runs and mlp-sweep compare', () => {
  const tmp = useTempFiles('mlp-runs-');
  const base = tmp.write('base.yaml', 'model:\n  layers: [784, 8, 10]\ndata:\n  limit: 300\n  validation: 100\ntraining:\n  epochs: 2\n');
  const out = join(tmp.dir, 'sweep');

  it('lists run folders with their settings and results, and compares two side by side', () => {
    expect(cli('mlp-sweep', ['--config', base, '--grid', 'training.lr=0.5,1', '--out', out, '--quiet']).status).toBe(0);
    const list = cli('mlp-runs', [tmp.dir]);
    expect(list.status, list.stderr).toBe(0);
    const rows = lines(list.stdout).filter((l) => l.startsWith('| '));
    expect(rows[0]).toBe('| run | model.layers | model.hidden | loss | training.optimizer | training.lr | training.batch_size | training.epochs | test acc (%) | test loss | best val acc (%) | epochs | train s |');
    expect(rows).toHaveLength(4); // header, rule, 2 runs
    expect(list.stdout).toContain('sweep/lr-0.5 | [784,8,10] | sigmoid | mse | sgd | 0.5 | 100 | 2 |');

    const cmp = cli('mlp-runs', ['compare', join(out, 'lr-0.5'), join(out, 'lr-1'), '--json', '--out', join(tmp.dir, 'cmp')]);
    expect(cmp.status, cmp.stderr).toBe(0);
    const c = JSON.parse(cmp.stdout) as Comparison;
    expect(c.keys).toEqual(['training.lr']);
    expect(c.rows.map((r) => r.settings['training.lr']).sort()).toEqual(['0.5', '1']);
    const html = readFileSync(join(tmp.dir, 'cmp', 'comparison.html'), 'utf8');
    expect(html.match(/<svg/g)?.length).toBe(3); // loss, training and validation accuracy

    const same = cli('mlp-runs', ['compare', join(out, 'lr-1'), join(out, 'lr-1')]);
    expect(same.stdout).toMatch(/^The runs have the same config/);
    const notRun = cli('mlp-runs', ['compare', join(out, 'lr-1'), tmp.dir]);
    expect(notRun.status).toBe(1);
    expect(notRun.stderr).toBe(`error: ${tmp.dir}: not a run folder (no .mlp-run and config.json)\n`);
  });

  it('mlp-sweep compare rewrites the comparison from the run folders, sorted by another metric', () => {
    const r = cli('mlp-sweep', ['compare', out, '--metric', 'test_loss', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Comparison & { rows: Array<{ test_loss: number }> };
    expect(c.metric).toBe('test_loss');
    expect(c.rows[0].test_loss).toBeLessThanOrEqual(c.rows[1].test_loss);
    const none = cli('mlp-sweep', ['compare', tmp.dir]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^error: .*: no sweep\.json \(not a sweep's --out folder; mlp-runs compares any run folders\)\n$/);
  });
});
