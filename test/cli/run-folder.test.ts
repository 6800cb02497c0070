// The run folder's owner, through the real command: default names that never
// collide, a saved config that reruns into a new folder, one live process per
// folder (a lock that a killed run does not leave stuck), --force that only
// replaces a run, checkpoints that must prove whose they are and on what data,
// and one line (never a stack trace) for each refusal. Also the start-up
// warnings of a run: a warm-up longer than the run, an early-stopped run
// resumed, a divergence blamed on the regularizer that caused it.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MARKER_FILE, REPORT_CHARTS } from '../../src/output/run-files.js';
import { LOCK_FILE } from '../../src/output/run-lock.js';
import { readSafetensors, writeSafetensors } from '../../src/output/safetensors.js';
import { cli, ROOT, tempDir, startCli, type Exit } from '../helpers/cli.js';

const dir = tempDir('mlp-runfolder-');
chmodSync(dir, 0o755); // the unprivileged runs below must get in
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// About 1 s a run, most of it scoring the 10,000 test images; no warm-up (its warning is tested on its own).
const SMALL = [
  '--set', 'data.limit=500', '--set', 'model.layers=[784,16,10]', '--set', 'training.epochs=2',
  '--set', 'training.lr_schedule.warmup_steps=0',
];
const sub = (name: string): string => join(dir, name);
const lines = (text: string): string[] => text.trimEnd().split('\n');
const runId = (run: string): string => (JSON.parse(readFileSync(join(run, MARKER_FILE), 'utf8')) as { id: string }).id;

/** mlp-train in the background; `onStderr` sees the stderr so far and may signal the child. */
function start(args: string[], onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void, cwd = ROOT): Promise<Exit> {
  return startCli('mlp-train', args, { cwd, onStderr });
}

/** Resolves once the child's stderr matches `pattern`, with a function that signals it. */
function when(pattern: RegExp): { seen: Promise<(s: NodeJS.Signals) => void>; watch: (text: string, kill: (s: NodeJS.Signals) => void) => void } {
  let done: (k: (s: NodeJS.Signals) => void) => void = () => undefined;
  let fired = false;
  const seen = new Promise<(s: NodeJS.Signals) => void>((resolve) => (done = resolve));
  return {
    seen,
    watch: (text, kill) => {
      if (!fired && pattern.test(text)) {
        fired = true;
        done(kill);
      }
    },
  };
}

function tensorBytes(file: string): Buffer {
  const buf = readFileSync(file);
  return buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
}

describe('default run folders', () => {
  it('four runs started at once get four folders', async () => {
    const cwd = sub('parallel');
    mkdirSync(cwd);
    const runs = await Promise.all(Array.from({ length: 4 }, () => start([...SMALL, '--set', 'training.epochs=1'], undefined, cwd)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const folders = runs.map((r) => /^run folder (\S+)$/m.exec(r.stderr)![1]);
    expect(new Set(folders).size).toBe(4);
    for (const f of folders) expect(f).toMatch(/^runs\/\d{8}-\d{6}-\d{3}-[0-9a-f]{4}$/);
    expect(readdirSync(join(cwd, 'runs')).sort()).toEqual(folders.map((f) => f.slice('runs/'.length)).sort());
  });

  it('the header lists what the user set, not the folder the run named itself', () => {
    const cwd = sub('header');
    mkdirSync(cwd);
    const r = cli('mlp-train', SMALL, cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr)[4]).toBe(
      'config     (defaults); differs from defaults: data.limit=500 model.layers=[784,16,10] training.epochs=2 training.lr_schedule.warmup_steps=0',
    );
    const named = cli('mlp-train', [...SMALL, '--out', 'mine'], cwd);
    expect(lines(named.stderr)[4]).toBe(
      'config     (defaults); differs from defaults: data.limit=500 model.layers=[784,16,10] training.epochs=2 training.lr_schedule.warmup_steps=0 output.dir="mine"',
    );
  });

  it('--config <run>/config.json reruns the saved run into a new folder, bit for bit', () => {
    const cwd = sub('rerun');
    mkdirSync(cwd);
    expect(cli('mlp-train', [...SMALL, '--out', 'runs/a'], cwd).status).toBe(0);
    const r = cli('mlp-train', ['--config', 'runs/a/config.json'], cwd);
    expect(r.status, r.stderr).toBe(0);
    const out = lines(r.stderr);
    expect(out[4]).toBe(
      'config     runs/a/config.json; differs from defaults: data.limit=500 model.layers=[784,16,10] training.epochs=2 training.lr_schedule.warmup_steps=0',
    );
    const m = /^run folder (runs\/\S+) \(not runs\/a, the config's output\.dir: that folder holds the run the config was saved from\)$/.exec(out[5]);
    expect(m, out[5]).not.toBeNull();
    const again = join(cwd, m![1]);
    expect(tensorBytes(join(again, 'model.safetensors')).equals(tensorBytes(join(cwd, 'runs/a/model.safetensors')))).toBe(true);
    expect(JSON.parse(readFileSync(join(again, 'config.json'), 'utf8')).output.dir).toBe(m![1]);
  });
});

describe('a warm-up longer than the run', () => {
  it('is one warning naming the keys; metrics.csv records the rate actually used', () => {
    const run = sub('warmup');
    const r = cli('mlp-train', ['--set', 'data.limit=1000', '--set', 'training.epochs=1', '--set', 'model.layers=[784,16,10]', '--out', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr)[6]).toBe(
      'warning: training.lr_schedule.warmup_steps 600 is longer than the whole run (10 steps: 1 epoch x 10 batches), so the rate ' +
        'never reaches training.lr 2; lower training.lr_schedule.warmup_steps, or raise training.epochs or data.limit',
    );
    const row = lines(readFileSync(join(run, 'metrics.csv'), 'utf8'))[1].split(',');
    expect(Number(row[1])).toBe(2 * (10 / 600)); // the last step's rate, not the base 2
    expect(cli('mlp-train', [...SMALL, '--out', sub('warmup-none')]).stderr).not.toMatch(/warning/);
  });
});

describe('one process per run folder', () => {
  it('a second process on a live folder is refused, --force or --resume alike; the first runs on untouched', async () => {
    const run = sub('live');
    const epoch1 = when(/^epoch\s+1\/500 /m);
    const a = start(['--set', 'data.limit=2000', '--set', 'model.layers=[784,16,10]', '--set', 'training.batch_size=10', '--set', 'training.epochs=500', '--out', run], epoch1.watch);
    const kill = await epoch1.seen;
    const owner = JSON.parse(readFileSync(join(run, LOCK_FILE), 'utf8')) as { pid: number; started: string };
    const refusal = `error: ${run}: in use by another mlp-train run (pid ${owner.pid}, started ${owner.started}); wait for it to end or stop it first\n`;
    const forced = cli('mlp-train', [...SMALL, '--out', run, '--force']);
    expect([forced.status, forced.stderr]).toEqual([1, refusal]);
    const resumed = cli('mlp-train', ['--resume', run]);
    expect([resumed.status, resumed.stderr]).toEqual([1, refusal]);
    expect(existsSync(join(run, 'config.json'))).toBe(true);
    kill('SIGINT');
    const done = await a;
    expect(done.pid).toBe(owner.pid);
    expect(done.code, done.stderr).toBe(130);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false); // released on the way out
    const rows = lines(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    expect(rows).toEqual(rows.map((_, i) => i + 1)); // one run's epochs, in order
  });

  it('a run killed with -9 leaves a stale lock that --resume takes over, with one warning', async () => {
    const run = sub('killed');
    const epoch1 = when(/^epoch\s+1\/3 /m);
    const a = start(['--set', 'data.limit=2000', '--set', 'model.layers=[784,16,10]', '--set', 'training.batch_size=10', '--set', 'training.epochs=3', '--out', run], epoch1.watch);
    (await epoch1.seen)('SIGKILL');
    const killed = await a;
    expect(killed.signal).toBe('SIGKILL');
    const owner = JSON.parse(readFileSync(join(run, LOCK_FILE), 'utf8')) as { pid: number; started: string };
    expect(owner.pid).toBe(killed.pid);
    const r = cli('mlp-train', ['--resume', run]);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr)).toContain(`warning: ${run}: took over the lock of pid ${owner.pid} (started ${owner.started}), which is no longer running`);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
  });
});

describe('--force', () => {
  it('refuses a folder no run created, deleting nothing', () => {
    const mine = sub('mine');
    mkdirSync(join(mine, 'report'), { recursive: true });
    writeFileSync(join(mine, 'config.json'), '{"my": "config"}');
    writeFileSync(join(mine, 'report', 'notes.txt'), 'my notes');
    const r = cli('mlp-train', [...SMALL, '--out', mine, '--force']);
    expect([r.status, r.stderr]).toEqual([
      1,
      `error: ${mine}: was not created by mlp-train (no .mlp-run marker), so --force deletes nothing in it (it holds config.json); choose another --out\n`,
    ]);
    expect(readFileSync(join(mine, 'config.json'), 'utf8')).toBe('{"my": "config"}');
    expect(readFileSync(join(mine, 'report', 'notes.txt'), 'utf8')).toBe('my notes');
  });

  it("replaces a run, removing only the run's files, by name", () => {
    const run = sub('replace');
    expect(cli('mlp-train', [...SMALL, '--set', 'data.validation=100', '--out', run]).status).toBe(0);
    // Every chart a run writes (the best weights' ones too) is one --force knows by name.
    expect(readdirSync(join(run, 'report')).filter((f) => !REPORT_CHARTS.includes(f))).toEqual([]);
    writeFileSync(join(run, 'notes.txt'), 'mine');
    writeFileSync(join(run, 'report', 'notes.txt'), 'mine too');
    const before = runId(run);
    const r = cli('mlp-train', [...SMALL, '--set', 'training.epochs=1', '--out', run, '--force']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(run, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(run, 'report', 'notes.txt'), 'utf8')).toBe('mine too');
    expect(existsSync(join(run, 'best.safetensors'))).toBe(false); // the old run's; the new one has no validation split
    expect(lines(readFileSync(join(run, 'metrics.jsonl'), 'utf8'))).toHaveLength(1);
    expect(runId(run)).not.toBe(before);
  });
});

describe('--resume checks whose checkpoint it is, and the data', () => {
  it("refuses another network's checkpoint copied into the folder, and rewrites nothing", () => {
    const small = sub('net-16');
    const big = sub('net-20');
    expect(cli('mlp-train', [...SMALL, '--out', small]).status).toBe(0);
    expect(cli('mlp-train', [...SMALL, '--set', 'model.layers=[784,20,10]', '--out', big]).status).toBe(0);
    cpSync(join(small, 'checkpoint.safetensors'), join(big, 'checkpoint.safetensors'));
    const config = readFileSync(join(big, 'config.json'));
    const r = cli('mlp-train', ['--resume', big]);
    expect([r.status, r.stderr]).toEqual([
      1,
      `error: ${big}/checkpoint.safetensors: not this run's checkpoint: its config differs from ${big}/config.json: ` +
        `model.layers [784,16,10] (config.json: [784,20,10]); refusing to resume ${big} with it\n`,
    ]);
    expect(readFileSync(join(big, 'config.json')).equals(config)).toBe(true);
  });

  it("refuses the checkpoint of another run with the same config (the marker's run id)", () => {
    const a = sub('twin-a');
    const b = sub('twin-b');
    expect(cli('mlp-train', [...SMALL, '--out', a]).status).toBe(0);
    expect(cli('mlp-train', [...SMALL, '--out', b]).status).toBe(0);
    cpSync(join(a, 'checkpoint.safetensors'), join(b, 'checkpoint.safetensors'));
    const r = cli('mlp-train', ['--resume', b]);
    expect([r.status, r.stderr]).toEqual([
      1,
      `error: ${b}/checkpoint.safetensors: not this run's checkpoint: written by run ${runId(a)}, but ${b}/${MARKER_FILE} names run ${runId(b)}; refusing to resume ${b} with it\n`,
    ]);
  });

  /** An IDX pair of n random 28x28 images; returns the bytes a run fingerprints (images, then labels, without headers). */
  function writeIdx(prefix: string, n: number, seed: number): Buffer {
    let x = seed;
    const next = (): number => (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const images = Buffer.alloc(16 + n * 784);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(n, 4);
    images.writeUInt32BE(28, 8);
    images.writeUInt32BE(28, 12);
    for (let i = 16; i < images.length; i++) images[i] = next();
    const labels = Buffer.alloc(8 + n);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(n, 4);
    for (let i = 8; i < labels.length; i++) labels[i] = next() % 10;
    writeFileSync(`${prefix}-images`, images);
    writeFileSync(`${prefix}-labels`, labels);
    return Buffer.concat([images.subarray(16), labels.subarray(8)]);
  }
  const sha = (b: Buffer): string => spawnSync('sha256sum', { input: b, encoding: 'utf8' }).stdout.slice(0, 12);

  it.each([
    ['replaced by other images of the same shape', 300, 2],
    ['shrunk', 200, 1],
  ])('refuses training data %s since the checkpoint', (_what, n, seed) => {
    const run = sub(`data-${n}`);
    const data = sub(`idx-${n}`);
    const used = writeIdx(data, 300, 1);
    const args = ['--set', `data.train.images=${data}-images`, '--set', `data.train.labels=${data}-labels`, '--set', 'model.layers=[784,16,10]'];
    expect(cli('mlp-train', [...args, '--set', 'training.epochs=2', '--set', 'training.lr_schedule.warmup_steps=0', '--out', run]).status).toBe(0);
    const now = writeIdx(data, n, seed);
    const r = cli('mlp-train', ['--resume', run, '--set', 'training.epochs=3']);
    expect([r.status, r.stderr]).toEqual([
      1,
      `error: ${run}/checkpoint.safetensors: the training data changed: the run trained on 300 samples, ${used.length} bytes, sha256 ${sha(used)}, ` +
        `the data files now give ${n} samples, ${now.length} bytes, sha256 ${sha(now)}; put the original files back or start a new run\n`,
    ]);
    writeIdx(data, 300, 1); // the original files back: the run goes on
    const back = cli('mlp-train', ['--resume', run, '--set', 'training.epochs=3']);
    expect(back.status, back.stderr).toBe(0);
  });

  it('refuses a tampered state (sums that no run writes) with one line, rewriting nothing', () => {
    const run = sub('tampered');
    expect(cli('mlp-train', [...SMALL, '--out', run]).status).toBe(0);
    const file = join(run, 'checkpoint.safetensors');
    const { tensors, metadata } = readSafetensors(file);
    const state = JSON.parse(metadata.state) as { batchesDone: number; sums: Record<string, number> };
    state.batchesDone = 5; // the last batch of an epoch, as if the epoch's sums were there: 0/0 metrics before
    Object.assign(state.sums, { batches: 5, seen: 0, seconds: 0.1 });
    writeSafetensors(file, tensors, { ...metadata, state: JSON.stringify(state) });
    const metrics = readFileSync(join(run, 'metrics.csv'));
    const r = cli('mlp-train', ['--resume', run, '--set', 'training.epochs=3']);
    expect([r.status, r.stderr]).toEqual([1, `error: ${file}: metadata state: sums.seen is 0, fewer than the 5 batches done (a batch has at least 1 sample)\n`]);
    expect(readFileSync(join(run, 'metrics.csv')).equals(metrics)).toBe(true);
  });

  it('an early-stopped run is finished: resuming says so and trains no further', () => {
    const run = sub('early');
    const args = [...SMALL, '--set', 'data.validation=100', '--set', 'training.lr=1e-12', '--set', 'training.epochs=20', '--set', 'training.early_stopping.patience=2'];
    const first = cli('mlp-train', [...args, '--out', run]);
    expect(first.status, first.stderr).toBe(0);
    expect(lines(readFileSync(join(run, 'metrics.jsonl'), 'utf8'))).toHaveLength(3); // epoch 1 stays the best
    const r = cli('mlp-train', ['--resume', run, '--set', 'training.epochs=30']);
    expect(r.status, r.stderr).toBe(0);
    const out = lines(r.stderr);
    expect(out.slice(6, 9)).toEqual([
      'resuming  after epoch 3',
      `warning: ${run}: the run ended by early stopping after epoch 3 (no better validation accuracy than epoch 1's for 2 epochs); ` +
        'it trains no further: only its summary and report are written again',
      'early stopping: no better validation accuracy for 2 epochs',
    ]);
    expect(out.some((l) => l.startsWith('epoch '))).toBe(false);
    expect(lines(readFileSync(join(run, 'metrics.jsonl'), 'utf8'))).toHaveLength(3);
  });
});

describe('divergence names its likely cause', () => {
  it.each([
    ['regularization.l2=1e300', 'regularization.l2 1e+300 is likely too large: the step\'s lr*l2/batch is 2.00e+298, keep it below 1'],
    ['regularization.discriminative=1e300', 'regularization.discriminative 1e+300 is likely too large: the step\'s lr*gamma/batch is 2.00e+298, keep it below 1'],
  ])('%s', (set, cause) => {
    const r = cli('mlp-train', [...SMALL, '--set', set, '--out', sub(`diverge-${set.slice(15, 17)}`)]);
    expect(r.status).toBe(1);
    expect(lines(r.stderr).at(-1)).toBe(`error: training diverged at epoch 1, batch 2: the loss is NaN (${cause})`);
  });
});

// File system refusals need a user the permissions apply to: as root, the runs drop to nobody (setpriv).
const isRoot = process.getuid?.() === 0;
const canDrop = !isRoot || spawnSync('setpriv', ['--version']).status === 0;

/** mlp-train as an unprivileged user. */
function asUser(args: string[], cwd = ROOT): { status: number | null; stderr: string } {
  const train = [process.execPath, join(ROOT, 'bin', 'mlp-train.js'), ...args];
  const [cmd, ...rest] = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...train] : train;
  const r = spawnSync(cmd, rest, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stderr: r.stderr };
}

describe.skipIf(!canDrop)('a run folder the file system refuses: one line, no stack trace', () => {
  const tree = sub('perm');
  afterAll(() => {
    // Give the folders back their modes, so that the temp folder can be removed by a user that is not root.
    for (const [name, mode] of [['ro', 0o755], ['locked', 0o755], ['readonly', 0o755], ['charts/report', 0o755]] as const) {
      if (existsSync(join(tree, name))) chmodSync(join(tree, name), mode);
    }
  });
  const made = (): string => {
    if (!existsSync(tree)) {
      mkdirSync(join(tree, 'ro'), { recursive: true });
      chmodSync(tree, 0o755);
      expect(cli('mlp-train', [...SMALL, '--set', 'training.epochs=1', '--out', join(tree, 'run')]).status).toBe(0);
      for (const [name, mode] of [['locked', 0o000], ['readonly', 0o555], ['charts', 0o777]] as const) {
        cpSync(join(tree, 'run'), join(tree, name), { recursive: true });
        chmodSync(join(tree, name), mode);
      }
      chmodSync(join(tree, 'charts', 'report'), 0o555); // --force cannot remove the charts
      chmodSync(join(tree, 'ro'), 0o555);
    }
    return tree;
  };

  const CASES: Array<[string, string[], string, string?]> = [
    ['create under a read-only folder', [...SMALL, '--out', join(tree, 'ro', 'x')], `${tree}/ro/x: cannot create the folder: permission denied (EACCES, mkdir)`],
    ['create the default runs/ in a read-only working folder', SMALL, 'runs: cannot create the folder: permission denied (EACCES, mkdir)', 'ro'],
    ['write into an unreadable folder', [...SMALL, '--out', join(tree, 'locked')], `${tree}/locked: cannot write in the run folder: permission denied (EACCES, open)`],
    ['clean a run folder whose charts cannot be removed', [...SMALL, '--out', join(tree, 'charts'), '--force'], `${tree}/charts/report/accuracy.svg: cannot remove: permission denied (EACCES, unlink)`],
    ['resume an unreadable folder', ['--resume', join(tree, 'locked')], `${tree}/locked: cannot read the run folder: permission denied (EACCES, stat)`],
    ['resume a read-only folder', ['--resume', join(tree, 'readonly'), '--set', 'training.epochs=2'], `${tree}/readonly: cannot write in the run folder: permission denied (EACCES, open)`],
  ];
  it.each(CASES)('%s', (_name, args, line, cwd) => {
    made();
    const r = asUser(args, cwd ? join(tree, cwd) : ROOT);
    expect([r.status, r.stderr]).toEqual([1, `error: ${line}\n`]);
  });
});
