import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { checkThresholds, parseReproduceArgs } from '../../src/cli/reproduce.js';
import type { RowResult, Table } from '../../src/reproduce/table.js';
import { cli, ROOT, alive } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const argv = (...args: string[]): string[] => ['node', 'mlp-reproduce', ...args];

describe('mlp-reproduce arguments', () => {
  it('defaults: all rows, 5 seeds, one run at a time; no --out (runs/reproduce, or runs/ci), nothing published', () => {
    const o = parseReproduceArgs(argv());
    expect(o).toMatchObject({ only: [], seeds: 5, jobs: 1, table: 'configs/table.yaml', seedsGiven: false });
    expect(o.out).toBeUndefined();
    expect(o.publish).toBeUndefined();
    expect(o.json).toBeUndefined();
  });

  it('--only takes comma lists and repeats; --seeds and --jobs positive integers; --publish with or without a folder', () => {
    const o = parseReproduceArgs(argv('--only', 'a,b', '--only', ' c ', '--seeds', '3', '--jobs', '2', '--publish'));
    expect(o.only).toEqual(['a', 'b', 'c']);
    expect(o.seeds).toBe(3);
    expect(o.seedsGiven).toBe(true);
    expect(o.jobs).toBe(2);
    expect(o.publish).toBe(true);
    expect(parseReproduceArgs(argv('--publish', 'pub', '--json')).publish).toBe('pub');
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

// A tiny row: 500 training images, 2 epochs, well under a second of training.
const tiny = (hidden: number, extra = ''): string =>
  `# a tiny row for the test\nmodel:\n  layers: [784, ${hidden}, 10]\ndata:\n  limit: 500\ntraining:\n  epochs: 2\n  threads: 1\n  lr_schedule:\n    warmup_steps: 10\n${extra}`;
const TINY_TABLE =
  'rows:\n  - name: tiny-a\n    config: tiny-a.yaml\n    published: { accuracy: 0.5, source: "nobody" }\n  - name: tiny-b\n    config: tiny-b.yaml\n';

const read = (file: string): string => readFileSync(file, 'utf8');
const readJson = (file: string): Table => JSON.parse(read(file)) as Table;
const lines = (text: string): string[] => text.trimEnd().split('\n');

describe('mlp-reproduce end to end (tiny rows: 500 images, 2 epochs)', () => {
  const tmp = useTempFiles('mlp-reproduce-');
  tmp.write('tiny-a.yaml', tiny(16));
  tmp.write('tiny-b.yaml', tiny(8));
  const table = tmp.write('table.yaml', TINY_TABLE);
  const out = join(tmp.dir, 'out');

  it('a quick check (--seeds 1 --set ...) writes its run folders and table into runs/reproduce, records every override, and leaves results/ alone', () => {
    // the working directory is the temp folder: its results/ stands for the published table
    mkdirSync(join(tmp.dir, 'results'));
    const published = tmp.write('results/table.md', 'the published table\n');
    const r = cli('mlp-reproduce', ['--table', 'table.yaml', '--only', 'tiny-b', '--seeds', '1', '--set', 'data.limit=300', '--set', 'training.epochs=1'], tmp.dir);
    expect(r.status).toBe(0);
    const err = lines(r.stderr);
    expect(err[0]).toBe('mlp-reproduce: 1 rows, 1 runs, 1 at a time; run folders and table in runs/reproduce');
    expect(err[1]).toMatch(/^tiny-b seed 1: started, pid \d+ \(runs\/reproduce\/tiny-b\/seed-1\)$/);
    expect(err[2]).toMatch(/^tiny-b seed 1: test \d+\.\d\d% {2}\d+\.\d s training {2}\(runs\/reproduce\/tiny-b\/seed-1\)$/);
    expect(err[3]).toMatch(/^1 runs in \d+ s wall time; table in runs\/reproduce\/table\.md$/);
    expect(err).toHaveLength(4);
    expect(read(published)).toBe('the published table\n');
    expect(existsSync(join(tmp.dir, 'results', 'table.json'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'runs', 'reproduce', 'tiny-b', 'seed-1', 'summary.json'))).toBe(true);

    const md = read(join(tmp.dir, 'runs', 'reproduce', 'table.md'));
    expect(r.stdout).toBe(md);
    const mdLines = lines(md);
    expect(mdLines[2]).toMatch(
      /^\| tiny-b \| 784-8-10 sigmoid\/sigmoid mse, batch 100, lr 2 x0\.3\/10 ep, momentum 0\.9, warm-up 10, 1 epoch \(--set data\.limit=300 --set training\.epochs=1\) \| - \| \*\*\d+\.\d\d\*\* ± 0\.00 \| \d+\.\d\d \| \d+\.\d\d \| 1 \| \d+\.\d \| 1 \|$/,
    );
    expect(mdLines.slice(3, 6)).toEqual([
      '',
      'Test accuracy on the test images after the last epoch; seeds 1..n (`model.seed`: init and shuffling).',
      'Data: 300 training images, 10,000 test images (MNIST).',
    ]);
    const row = readJson(join(tmp.dir, 'runs', 'reproduce', 'table.json')).rows[0];
    expect(row.overrides).toEqual(['data.limit=300', 'training.epochs=1']);
    expect(row.data).toEqual({ train: 300, validation: 0, test: 10000, mnist: true });
    expect(row.runs[0].samples).toEqual({ train: 300, validation: 0, test: 10000 });
    expect(row.runs[0].run_dir).toBe('runs/reproduce/tiny-b/seed-1');
  });

  it('--out DIR receives the run folders and the table; --json prints that table as JSON on stdout, logs on stderr', () => {
    const r = cli('mlp-reproduce', ['--table', table, '--only', 'tiny-a', '--seeds', '2', '--jobs', '2', '--out', out, '--json']);
    expect(r.stderr).toContain('tiny-a seed 2: test');
    expect(r.status).toBe(0);
    const t = readJson(join(out, 'table.json'));
    expect(JSON.parse(r.stdout)).toEqual(t);
    expect(t.rows.map((row) => row.name)).toEqual(['tiny-a']);
    const row = t.rows[0];
    // each run's accuracy is the one its own run folder reports
    const accs = [1, 2].map((s) => {
      const summary = JSON.parse(read(join(out, 'tiny-a', `seed-${s}`, 'summary.json'))) as { test_accuracy: number };
      return summary.test_accuracy;
    });
    expect(row.runs.map((x) => x.test_accuracy)).toEqual(accs);
    expect(row.test_accuracy.mean).toBeCloseTo((accs[0] + accs[1]) / 2, 12);
    expect(accs[0]).not.toBe(accs[1]); // different seeds, different runs
    expect(row.threads).toBe(1);
    expect(row.epochs).toBe(2);
    expect(row.overrides).toEqual([]);
    expect(row.data).toEqual({ train: 500, validation: 0, test: 10000, mnist: true });
    const md = read(join(out, 'table.md'));
    expect(md).toContain('| tiny-a | 784-16-10 sigmoid/sigmoid mse, batch 100, lr 2 x0.3/10 ep, momentum 0.9, warm-up 10, 2 epochs | 50.00 (nobody) |');
    expect(md).toContain('\nData: 500 training images, 10,000 test images (MNIST).\n');
  });

  it('--only another row adds it and keeps the first', () => {
    const r = cli('mlp-reproduce', ['--table', table, '--only', 'tiny-b', '--seeds', '1', '--out', out]);
    expect(r.status).toBe(0);
    const t = readJson(join(out, 'table.json'));
    expect(t.rows.map((row) => [row.name, row.seeds.length])).toEqual([
      ['tiny-a', 2],
      ['tiny-b', 1],
    ]);
    expect(r.stdout).toBe(read(join(out, 'table.md')));
  });

  it('--publish DIR: a run of the rows as defined (5 seeds, no --set) is merged into the published table; other rows keep theirs', () => {
    const pub = join(tmp.dir, 'pub');
    mkdirSync(pub);
    const before = readJson(join(out, 'table.json')).rows.filter((row) => row.name === 'tiny-a');
    writeFileSync(join(pub, 'table.json'), JSON.stringify({ rows: before }));
    const out2 = join(tmp.dir, 'out2');
    const r = cli('mlp-reproduce', ['--table', table, '--only', 'tiny-b', '--jobs', '2', '--out', out2, '--publish', pub]);
    expect(r.status).toBe(0);
    const err = lines(r.stderr);
    expect(err[0]).toBe(`mlp-reproduce: 1 rows, 5 runs, 2 at a time, 1 thread each; run folders and table in ${out2}; finished rows published in ${pub}`);
    expect(err).toContain(`tiny-b: published in ${join(pub, 'table.md')}`);
    const t = readJson(join(pub, 'table.json'));
    expect(t.rows.map((row) => [row.name, row.seeds])).toEqual([
      ['tiny-a', [1, 2]],
      ['tiny-b', [1, 2, 3, 4, 5]],
    ]);
    expect(t.rows[0]).toEqual(before[0]);
    expect(t.rows[1]).toEqual(readJson(join(out2, 'table.json')).rows[0]);
    expect(read(join(pub, 'table.md'))).toContain('| tiny-b | 784-8-10 sigmoid/sigmoid mse, batch 100, lr 2 x0.3/10 ep, momentum 0.9, warm-up 10, 2 epochs | - |');
  });

  it.each([
    [
      ['--only', 'tiny-b', '--seeds', '1', '--set', 'training.epochs=1', '--publish', 'pub-x'],
      "error: --publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --set training.epochs=1, --seeds 1 (without --publish the table goes to runs/reproduce/table.md)\n",
    ],
    [
      ['--only', 'tiny-b', '--set', 'data.limit=100', '--publish'],
      "error: --publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --set data.limit=100 (without --publish the table goes to runs/reproduce/table.md)\n",
    ],
    [
      ['--only', 'tiny-b', '--seeds', '2', '--out', 'quick', '--publish'],
      "error: --publish refused: a published row runs its config unchanged over seeds 1..5, and this run has --seeds 2 (without --publish the table goes to quick/table.md)\n",
    ],
    [['--only', 'tiny-b', '--seeds', '1', '--out', 'results'], "error: --out results is the published table's folder: write the runs elsewhere and use --publish to update it\n"],
    [['--only', 'tiny-b', '--out', 'pub-x', '--publish', 'pub-x'], "error: --out pub-x is the published table's folder: write the runs elsewhere and use --publish to update it\n"],
    [['--ci', 'ci-0.05.yaml', '--publish'], 'error: --ci writes its table beside its runs, never into the published one: drop --publish\n'],
  ])('a publish that could replace published results with a quick check is refused before any run: %j', (args, message) => {
    tmp.write('ci-0.05.yaml', ciFile(0.05));
    const r = cli('mlp-reproduce', ['--table', 'table.yaml', ...args], tmp.dir);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(existsSync(join(tmp.dir, 'pub-x'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'quick'))).toBe(false);
    expect(read(join(tmp.dir, 'results', 'table.md'))).toBe('the published table\n');
  });

  const ciFile = (thr: number): string =>
    `table: table.yaml\nrows:\n  - name: tiny-b\n    seeds: 1\n    threshold: ${thr}\n    derived_from: { runs: [0.5], source: "test" }\n`;

  it('--ci checks the thresholds: exit 1 with a FAIL line below, 0 above; its table goes into --out', () => {
    const ciOut = join(tmp.dir, 'ci');
    const fail = cli('mlp-reproduce', ['--ci', tmp.write('ci-0.999.yaml', ciFile(0.999)), '--out', ciOut]);
    expect(fail.status).toBe(1);
    expect(lines(fail.stderr).at(-1)).toMatch(/^FAIL tiny-b seed 1: test \d+\.\d\d% < threshold 99\.90%$/);
    const pass = cli('mlp-reproduce', ['--ci', tmp.write('ci-0.05.yaml', ciFile(0.05)), '--out', ciOut]);
    expect(lines(pass.stderr).at(-1)).toMatch(/^ok {3}tiny-b seed 1: test \d+\.\d\d% >= threshold 5\.00%$/);
    expect(pass.status).toBe(0);
    expect(readJson(join(ciOut, 'table.json')).rows.map((row) => row.name)).toEqual(['tiny-b']);
    expect(existsSync(join(ciOut, 'tiny-b', 'seed-1', 'summary.json'))).toBe(true);
  });

  it.each([
    [['--only', 'tiny-c'], `error: --only: unknown row "tiny-c" (rows of ${table}: tiny-a, tiny-b)\n`],
    [['--only', 'tiny-a', '--set', 'training.lr=-1'], `error: --set: training.lr: expected a positive number, got -1\n`],
    [['--only', 'tiny-a', '--runs', 'runs'], 'error: --runs was removed: use --out DIR (it receives the run folders and the table)\n'],
  ])('bad arguments: one line, exit 1 (%j)', (args, message) => {
    const r = cli('mlp-reproduce', ['--table', table, '--out', out, ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(message);
  });

  it('--list, and --list --json', () => {
    expect(cli('mlp-reproduce', ['--table', table, '--list']).stdout).toBe('tiny-a  tiny-a.yaml\ntiny-b  tiny-b.yaml\n');
    const r = cli('mlp-reproduce', ['--table', table, '--list', '--json']);
    expect(JSON.parse(r.stdout)).toEqual([
      { name: 'tiny-a', config: 'tiny-a.yaml' },
      { name: 'tiny-b', config: 'tiny-b.yaml' },
    ]);
  });
});

// Issue 17 C: a signal to mlp-reproduce used to leave its mlp-train children
// running with parent PID 1. Now the children run in their own process groups,
// the parent passes the signal on, waits for them (each writes its checkpoint
// and exits 130) and exits 130 itself.
describe('mlp-reproduce stops its children on SIGINT/SIGTERM', () => {
  const tmp = useTempFiles('mlp-reproduce-signal-');
  // long enough never to finish during the test; an epoch of 2000 images takes well under a second
  tmp.write('long.yaml', 'model:\n  layers: [784, 16, 10]\ndata:\n  limit: 2000\ntraining:\n  epochs: 100000\n  threads: 1\n');
  const table = tmp.write('table.yaml', 'rows:\n  - name: long\n    config: long.yaml\n');
  const started: number[] = [];
  afterAll(() => {
    // only if a test failed and a process survived: do not leave it running (parents first)
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ESRCH: gone, as it should be
      }
    }
  });


  /** Resolves when `check` holds, polling; rejects after `ms`. */
  const waitFor = async (check: () => boolean, ms: number, what: string): Promise<void> => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it.each([
    ['SIGTERM to the parent', 'SIGTERM', false],
    ['SIGINT to the parent', 'SIGINT', false],
    ["SIGINT to the parent's process group (Ctrl-C in a terminal)", 'SIGINT', true],
  ] as const)('%s: the running children checkpoint and exit 130, no new one starts, none survives, exit 130', async (_what, signal, toGroup) => {
    const out = join(tmp.dir, `${signal}-${toGroup ? 'group' : 'parent'}`);
    // 3 seeds, 2 at a time: seed 3 must never start
    const parent = spawn(process.execPath, [join(ROOT, 'bin', 'mlp-reproduce.js'), '--table', table, '--seeds', '3', '--jobs', '2', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      detached: toGroup, // its own process group, as a shell gives a foreground job
    });
    started.unshift(parent.pid!);
    let stderr = '';
    parent.stderr.setEncoding('utf8');
    parent.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => parent.on('close', (code, sig) => resolve({ code, signal: sig })));
    const pids = (): number[] => [...stderr.matchAll(/started, pid (\d+)/g)].map((m) => Number(m[1]));

    await waitFor(() => pids().length === 2, 30_000, 'two children to start');
    started.push(...pids());
    // once each child has written an epoch's metrics (the file exists, empty, from the start) it is in
    // its training loop, with its signal handlers in place
    const epochDone = (s: number): boolean => {
      const file = join(out, 'long', `seed-${s}`, 'metrics.jsonl');
      return existsSync(file) && statSync(file).size > 0;
    };
    await waitFor(() => epochDone(1) && epochDone(2), 30_000, 'a first epoch');
    if (toGroup) process.kill(-parent.pid!, signal);
    else parent.kill(signal);

    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`mlp-reproduce still running 30 s after ${signal}:\n${stderr}`)), 30_000));
    const exit = await Promise.race([exited, timeout]);
    expect(exit, stderr).toEqual({ code: 130, signal: null });
    for (const pid of pids()) expect(alive(pid), `child ${pid}`).toBe(false);

    const err = lines(stderr);
    expect(err).toContain(`${signal}: stopping 2 runs after their current batch; no new run starts (press Ctrl-C again to stop them at once)`);
    for (const s of [1, 2]) {
      const dir = join(out, 'long', `seed-${s}`);
      expect(err, stderr).toContain(`long seed ${s}: stopped (exit 130); resume with: mlp-train --resume ${dir} (or the same command again)`);
      expect(existsSync(join(dir, 'checkpoint.safetensors'))).toBe(true);
    }
    expect(err.at(-1)).toBe(`warning: ${signal}: stopped after 0 of 3 runs; no row is complete`);
    expect(stderr).not.toContain('long seed 3');
    expect(existsSync(join(out, 'long', 'seed-3'))).toBe(false);
  });
});
