// Exact resume: a run stopped by Ctrl-C at a random batch, killed with -9
// between epochs, or killed in the middle of writing its checkpoint, then
// continued with --resume, ends with the weights of a run never stopped,
// byte for byte, and with the same metrics rows.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/output/checkpoint.js';
import { cli, startCli, tempDir, type Exit } from '../helpers/cli.js';

const dir = tempDir('mlp-resume-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCHS = 6;
// About 65 ms an epoch on 2 threads (2026-12: a random signal within epochs 2-4 leaves at least two
// epochs, well over the trainer's 50 ms between looks at a Ctrl-C); a validation split so that
// best.safetensors and the best-epoch state are covered too.
const SMALL = [
  '--set', 'data.limit=4000', '--set', 'data.validation=500', '--set', 'model.layers=[784,256,10]',
  '--set', 'training.batch_size=10', '--set', `training.epochs=${EPOCHS}`,
];

/** Run mlp-train; `onStderr` sees the stderr so far after each chunk and may kill the child. */
function train(args: string[], env: Record<string, string> = {}, onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Exit> {
  return startCli('mlp-train', args, { env, onStderr });
}

/** A stderr watcher for train(): once `pattern` shows, send each signal at its delay (ms). */
function signalOn(pattern: RegExp, ...signals: Array<[NodeJS.Signals, number]>): (text: string, kill: (s: NodeJS.Signals) => void) => void {
  let sent = false;
  return (text, kill) => {
    if (sent || !pattern.test(text)) return;
    sent = true;
    for (const [signal, delay] of signals) {
      if (delay === 0) kill(signal);
      else setTimeout(() => kill(signal), delay);
    }
  };
}

/** The tensor bytes of a safetensors file (the header holds the config, whose output.dir differs between runs). */
function tensorBytes(file: string): Buffer {
  const buf = readFileSync(file);
  return buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
}

/** metrics.csv without the timing columns (seconds, eval_seconds, gflops), which no two runs share. */
function metricsWithoutTimes(run: string): string[] {
  return readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(',').slice(0, 11).join(','));
}

function expectSameRun(run: string, reference: string, epochs = EPOCHS): void {
  expect(tensorBytes(join(run, 'model.safetensors')).equals(tensorBytes(join(reference, 'model.safetensors'))), 'model.safetensors').toBe(true);
  expect(tensorBytes(join(run, 'best.safetensors')).equals(tensorBytes(join(reference, 'best.safetensors'))), 'best.safetensors').toBe(true);
  expect(metricsWithoutTimes(run)).toEqual(metricsWithoutTimes(reference));
  expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(epochs);
  expect(readdirSync(run).filter((f) => f.includes('.tmp-'))).toEqual([]);
  const a = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(reference, 'summary.json'), 'utf8'));
  expect(a.test_accuracy).toBe(b.test_accuracy);
  expect(a.best).toEqual(b.best);
}

let reference: string;
let epochMs: number; // wall time of one epoch of the reference run, to aim random signals inside the run
beforeAll(async () => {
  reference = join(dir, 'reference');
  const r = await train([...SMALL, '--out', reference]);
  expect(r.code, r.stderr).toBe(0);
  const rows = readFileSync(join(reference, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  epochMs = (1000 * rows.reduce((s: number, m: { seconds: number; eval_seconds: number }) => s + m.seconds + m.eval_seconds, 0)) / rows.length;
});

/** A random moment within epochs 2 to 4 of 6, counted from the line that ends epoch 1. */
const randomDelay = (): number => Math.floor(Math.random() * 3 * epochMs);

describe('mlp-train --resume', () => {
  it('after Ctrl-C at a random batch: exit 130, a hint, then the same weights as an uninterrupted run', async () => {
    const run = join(dir, 'sigint');
    const delay = randomDelay();
    const r = await train([...SMALL, '--out', run], {}, signalOn(/epoch 1\/6/, ['SIGINT', delay]));
    // The interrupt is reported with where it stopped and how to go on.
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted at epoch \d+, batch \d+\/350; checkpoint saved in .*checkpoint\.safetensors/);
    expect(r.stderr).toContain(`resume with: mlp-train --resume ${run}`);
    expect(existsSync(join(run, 'summary.json'))).toBe(false);
    const resumed = await train(['--resume', run, '--quiet']);
    expect(resumed.code, `${resumed.stderr} (interrupted ${delay} ms after epoch 1)`).toBe(0);
    expectSameRun(run, reference);
  });

  it('after kill -9 right after an epoch line (checkpoint maybe not yet written): metrics repaired, same weights', async () => {
    const run = join(dir, 'sigkill');
    const r = await train([...SMALL, '--out', run], {}, signalOn(/epoch 3\/6/, ['SIGKILL', 0]));
    expect(r.signal).toBe('SIGKILL');
    const resumed = await train(['--resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming {2}after epoch [23]\b/);
    expectSameRun(run, reference);
  });

  it('after kill -9 in the middle of writing the 3rd checkpoint (temp file written, not renamed): same weights', async () => {
    const run = join(dir, 'torn');
    const r = await train([...SMALL, '--out', run], { MLP_MNIST_KILL_BEFORE_RENAME: 'checkpoint.safetensors:3' });
    expect(r.signal).toBe('SIGKILL');
    expect(readdirSync(run).some((f) => f.startsWith('checkpoint.safetensors.tmp-'))).toBe(true);
    expect(loadCheckpoint(join(run, 'checkpoint.safetensors')).state.epochsDone).toBe(2); // the last good one
    const resumed = await train(['--resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/removed checkpoint\.safetensors\.tmp-/);
    expect(resumed.stderr).toMatch(/rewrote metrics\.jsonl to the checkpoint's 2 epochs/);
    expectSameRun(run, reference);
  });

  it('after kill -9 before the first checkpoint: the run starts over from its config.json, same weights', async () => {
    const run = join(dir, 'early');
    const r = await train([...SMALL, '--out', run], {}, signalOn(/run folder /, ['SIGKILL', 0]));
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(join(run, 'checkpoint.safetensors'))).toBe(false);
    const resumed = await train(['--resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming {2}from the start: the run stopped before its first checkpoint/);
    expectSameRun(run, reference);
  });

  it('a second Ctrl-C quits at once; the last checkpoint stays good and resumes to the same weights', async () => {
    const run = join(dir, 'twice');
    // The second signal 5 ms later: two at once would merge into one.
    const r = await train([...SMALL, '--out', run], {}, signalOn(/epoch 2\/6/, ['SIGINT', 0], ['SIGINT', 5]));
    // Killed by the re-raised SIGINT, or (if the first one was already handled and the run saved) exit 130.
    expect(r.signal === 'SIGINT' || r.code === 130, `code ${r.code}, signal ${r.signal}`).toBe(true);
    expect(loadCheckpoint(join(run, 'checkpoint.safetensors')).state.epochsDone).toBeGreaterThanOrEqual(1);
    const resumed = await train(['--resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameRun(run, reference);
  });

  it('mid-epoch checkpoints (training.checkpoint_every) survive kill -9 at a random moment', async () => {
    const ref = join(dir, 'every-ref');
    const every = ['--set', 'training.checkpoint_every=25'];
    expect((await train([...SMALL, ...every, '--out', ref])).code).toBe(0);
    const run = join(dir, 'every');
    const delay = randomDelay();
    const r = await train([...SMALL, ...every, '--out', run], {}, signalOn(/epoch 1\/6/, ['SIGKILL', delay]));
    expect(r.signal, `finished before the kill at +${delay} ms`).toBe('SIGKILL');
    const resumed = await train(['--resume', run]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameRun(run, ref);
  });

  it('more epochs on resume continue the run exactly as a longer run would', async () => {
    const short = join(dir, 'short');
    expect((await train([...SMALL, '--set', 'training.epochs=3', '--out', short])).code).toBe(0);
    const resumed = await train(['--resume', short, '--set', `training.epochs=${EPOCHS}`]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expectSameRun(short, reference);
  });

  it('refuses a changed config, naming the keys', () => {
    const r = cli('mlp-train', ['--resume', reference, '--set', 'training.lr=1', '--set', 'model.seed=7']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `error: --set: cannot resume ${reference} with a changed config: model.seed 1 -> 7, training.lr 2 -> 1 (only training.epochs, training.threads and output.* may change)`,
    );
  });

  it('a folder without a checkpoint cannot be resumed', () => {
    const r = cli('mlp-train', ['--resume', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${dir}: no checkpoint.safetensors or config.json to resume from`);
  });
});

// Each optimizer's state (velocity, adam's moments, rprop's steps and last signs, iRprop+'s last E)
// and its step count go through the checkpoint file and the CLI: a run stopped by Ctrl-C or
// kill -9 at a random moment and resumed ends with the bytes of a run never stopped. So do
// dropout's masks (drawn from the step number, nothing saved), max-norm's constraint, maxout
// units and deep relu layers.
describe('every optimizer, and dropout with max-norm, through the CLI: stopped at a random moment, resumed, the same bytes', () => {
  const FULL = ['data.limit=20000', 'training.batch_size=full', 'training.epochs=30'];
  const RUNS: Array<[string, string[], NodeJS.Signals]> = [
    ['nesterov', ['training.optimizer=nesterov'], 'SIGINT'],
    ['adam', ['training.optimizer=adam', 'training.lr=0.003'], 'SIGKILL'],
    ['adamw', ['training.optimizer=adamw', 'training.lr=0.003', 'training.adamw.weight_decay=0.1'], 'SIGINT'],
    // Full batch: one step an epoch, so more samples and epochs to leave room for the signal.
    ['rprop irprop- full batch', [...FULL, 'training.optimizer=rprop'], 'SIGKILL'],
    ['rprop irprop+ full batch', [...FULL, 'training.optimizer=rprop', 'training.rprop.variant=irprop+', 'regularization.l2=1'], 'SIGINT'],
    ['dropout and max-norm', ['regularization.dropout.input=0.2', 'regularization.dropout.hidden=0.5', 'regularization.max_norm=2'], 'SIGKILL'],
    ['dropout, Ctrl-C', ['regularization.dropout.input=0.2', 'regularization.dropout.hidden=0.5'], 'SIGINT'],
    // maxout units; two relu layers of 256 (padded W^T rows, sparse products over relu's zeros) with dropout
    ['maxout', ['model.hidden=maxout', 'model.maxout_pieces=3', 'model.layers=[784,100,10]', 'model.output=softmax', 'loss=cross_entropy', 'training.lr=0.01'], 'SIGKILL'],
    ['deep relu, dropout', ['model.hidden=relu', 'model.layers=[784,256,256,10]', 'model.output=softmax', 'loss=cross_entropy', 'training.lr=0.1', 'regularization.dropout.hidden=0.5'], 'SIGINT'],
  ];
  // 24 epochs (unless a run sets its own): the signal comes within the first half of the run, so at
  // least 11 epochs remain, well over the trainer's 50 ms between looks at a Ctrl-C even when an epoch
  // takes 20 ms (with 6 epochs, a SIGINT could land after the last one: the run had finished).
  const LONG = 24;
  it.each(RUNS)('%s, %s', async (name, sets, signal) => {
    const args = [...SMALL, '--set', `training.epochs=${LONG}`, ...sets.flatMap((s) => ['--set', s])];
    const epochs = Number(/training\.epochs=(\d+)/.exec(sets.join(' '))?.[1] ?? LONG);
    const ref = join(dir, `${name}-ref`);
    const whole = await train([...args, '--out', ref]);
    expect(whole.code, whole.stderr).toBe(0);
    const rows = readFileSync(join(ref, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const times = rows.map((m: { seconds: number; eval_seconds: number }) => 1000 * (m.seconds + m.eval_seconds)).sort((a: number, b: number) => a - b);
    const delay = Math.floor(Math.random() * (epochs / 2) * times[epochs >> 1]); // within the first half of the run, by the median epoch
    const run = join(dir, name);
    const r = await train([...args, '--out', run], {}, signalOn(new RegExp(`epoch +1/${epochs} `), [signal, delay]));
    expect(r.signal === signal || r.code === 130, `${r.signal} ${r.code}: finished before the signal at +${delay} ms`).toBe(true);
    const resumed = await train(['--resume', run, '--quiet']);
    expect(resumed.code, `${resumed.stderr} (stopped ${delay} ms after epoch 1)`).toBe(0);
    expectSameRun(run, ref, epochs);
  });
});

describe('an existing run folder', () => {
  it('is not overwritten without --force, and is with it', async () => {
    const r = cli('mlp-train', [...SMALL, '--set', 'training.epochs=1', '--out', reference]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already holds a run \(.*\); resume it with --resume, overwrite it with --force, or choose another --out/);
    expect(readFileSync(join(reference, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(EPOCHS); // untouched

    const copy = join(dir, 'forced');
    expect((await train([...SMALL, '--set', 'training.epochs=1', '--out', copy])).code).toBe(0);
    const forced = await train([...SMALL, '--set', 'training.epochs=2', '--out', copy, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(copy, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('divergence with checkpoints', () => {
  it('stops at the bad batch, keeps the last good checkpoint, and a resume meets the same divergence', async () => {
    const run = join(dir, 'diverge');
    // relu + softmax overflow to NaN at a huge lr (sigmoid/mse would only saturate); a checkpoint after every batch.
    const args = [
      '--set', 'data.limit=500', '--set', 'model.layers=[784,16,10]', '--set', 'training.batch_size=10',
      '--set', 'model.hidden=relu', '--set', 'model.output=softmax', '--set', 'loss=cross_entropy',
      '--set', 'training.lr=1e30', '--set', 'training.lr_schedule.warmup_steps=0', '--set', 'training.checkpoint_every=1',
    ];
    const r = await train([...args, '--out', run]);
    expect(r.code).toBe(1);
    const m = /error: training diverged at epoch 1, batch (\d+): the loss is NaN \(the learning rate 1e\+30 is likely too large\)\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const batch = Number(m![1]);
    const ck = loadCheckpoint(join(run, 'checkpoint.safetensors'));
    expect(ck.state.batchesDone).toBe(batch - 1);
    expect(ck.params.every(Number.isFinite)).toBe(true);
    const again = await train(['--resume', run]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`training diverged at epoch 1, batch ${batch}: the loss is NaN`);
  });
});
