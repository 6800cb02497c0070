// checkpoint.safetensors: a trainer's state saved and restored exactly, and
// checkpoints that cannot be trusted -> the exact one-line error.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../src/config/schema.js';
import type { Dataset } from '../../src/data/mnist.js';
import { WeightsFileError } from '../../src/errors.js';
import { Mlp } from '../../src/model/mlp.js';
import { restoreCheckpoint } from '../../src/cli/resume.js';
import { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint } from '../../src/output/checkpoint.js';
import { readSafetensors, writeSafetensors } from '../../src/output/safetensors.js';
import { Trainer } from '../../src/train/trainer.js';
import { tempDir } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';

const dir = tempDir('mlp-checkpoint-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (): string => join(dir, `${counter++}-checkpoint.safetensors`);

/** 60 random 4x4 "images" of 3 classes: enough to train a 16-5-3 net for a few epochs in milliseconds. */
function dataset(): Dataset {
  const n = 60;
  const images = new Uint8Array(n * 16);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let f = 0; f < 16; f++) images[i * 16 + f] = (i * 37 + f * 11 + labels[i] * 50) & 0xff;
  }
  return { name: 'train', n, features: 16, images, labels };
}

function config(extra: Record<string, unknown> = {}, regularization: Record<string, unknown> = {}): Config {
  return ConfigSchema.parse({
    model: { layers: [16, 5, 3], seed: 4 },
    regularization,
    training: { epochs: 4, batch_size: 7, lr: 0.5, ...extra },
  });
}

function trainer(cfg: Config): Trainer {
  const model = new Mlp(cfg.model);
  model.init(cfg.model.init, cfg.model.seed, cfg.model.output_bias);
  const ds = dataset();
  const validation = { ...ds, name: 'validation', n: 12, images: ds.images.subarray(0, 12 * 16), labels: ds.labels.subarray(0, 12) };
  return new Trainer(cfg, model, ds, validation);
}

describe('save -> load -> restore', () => {
  it('round-trips the state, the parameters, the velocity and the best copy exactly', async () => {
    const cfg = config();
    const a = trainer(cfg);
    await a.run({ shouldStop: () => a.state().epochsDone === 2 && a.state().batchesDone === 5 });
    const file = fresh();
    saveCheckpoint(file, { ...a.snapshot(), config: cfg });
    const ck = loadCheckpoint(file);
    expect(ck.state).toEqual(a.state());
    expect(ck.state.batchesDone).toBe(5);
    expect(Array.from(ck.params)).toEqual(Array.from(a.model.params));
    expect(ck.optimizer.name).toBe(a.optimizer.name);
    expect(Array.from(ck.optimizer.state.velocity)).toEqual(Array.from(a.optimizerState.velocity));
    expect(Array.from(ck.bestParams!)).toEqual(Array.from(a.bestParams!));
    expect(ck.config).toEqual(JSON.parse(JSON.stringify(cfg)));
  });

  // Every optimizer, on the fast pass (wasm) and on the reference pass (blocked): its state tensors,
  // its scalars (iRprop+'s last E) and the step count t (adam's bias correction, from the position)
  // must all come back. rprop runs on mini-batches here (forced) so that it stops mid-epoch, and once
  // on full batches (one step an epoch: stopped right after the step, before the epoch's end). The
  // iRprop+ runs stop where the last E decides the next step: the resumed runs end elsewhere with a
  // prev_loss of 0 (tried: mini-batch stops at batch 4 of epoch 2, full-batch after step 3).
  // With dropout the masks of the resumed steps come from their step numbers alone (nothing saved);
  // with max-norm every step ends in the constraint.
  const DROP = { dropout: { input: 0.2, hidden: 0.5 }, max_norm: 1 };
  const OPTIMIZERS: Array<[string, Record<string, unknown>, number, number, Record<string, unknown>?]> = [
    ['sgd', {}, 1, 4],
    ['nesterov', { optimizer: 'nesterov' }, 1, 4],
    ['adam', { optimizer: 'adam', lr: 0.01 }, 1, 4],
    ['adamw', { optimizer: 'adamw', lr: 0.01, adamw: { weight_decay: 0.1 } }, 1, 4],
    ['rprop irprop-', { optimizer: 'rprop', lr: 2, rprop: { allow_minibatch: true } }, 1, 4],
    ['rprop irprop+', { optimizer: 'rprop', lr: 2, rprop: { allow_minibatch: true, variant: 'irprop+' } }, 1, 4],
    ['rprop irprop+ full batch', { optimizer: 'rprop', lr: 2, batch_size: 'full', epochs: 6, rprop: { variant: 'irprop+' } }, 2, 1],
    ['sgd, dropout and max-norm', {}, 1, 4, DROP],
    ['adam, dropout and max-norm', { optimizer: 'adam', lr: 0.01 }, 2, 3, DROP],
  ];
  const RUNS = OPTIMIZERS.flatMap(([name, extra, epochs, batches, reg]) => (['wasm', 'blocked'] as const).map((kernel) => [name, kernel, extra, epochs, batches, reg ?? {}] as const));
  it.each(RUNS)('a run restored mid-epoch ends bit-identical to one never stopped: %s, %s kernels', async (_, kernel, extra, epochs, batches, reg) => {
    const cfg = config({ kernel, ...extra }, reg);
    const whole = trainer(cfg);
    await whole.run();
    const first = trainer(cfg);
    await first.run({ shouldStop: () => first.state().epochsDone === epochs && first.state().batchesDone === batches });
    const file = fresh();
    saveCheckpoint(file, { ...first.snapshot(), config: cfg });
    const second = trainer(cfg);
    second.model.params.fill(0); // restore must not depend on the fresh init
    const ck = loadCheckpoint(file);
    expect(ck.optimizer.scalars).toEqual(first.optimizerScalars);
    restoreCheckpoint(file, ck, second);
    expect(second.optimizerScalars).toEqual(first.optimizerScalars);
    const result = await second.run();
    expect(Array.from(second.model.params)).toEqual(Array.from(whole.model.params));
    expect(Array.from(second.bestParams!)).toEqual(Array.from(whole.bestParams!));
    for (const [name, t] of Object.entries(second.optimizerState)) expect(Array.from(t), name).toEqual(Array.from(whole.optimizerState[name]));
    expect(second.optimizerScalars).toEqual(whole.optimizerScalars);
    expect(result.metrics.map((m) => [m.loss, m.train_accuracy, m.val_accuracy])).toEqual(
      whole.state().metrics.map((m) => [m.loss, m.train_accuracy, m.val_accuracy]),
    );
  });

  it('iRprop+ backtracks in these runs (so its saved E decides the resumed steps)', async () => {
    const run = async (variant: string): Promise<number[]> => {
      const t = trainer(config({ optimizer: 'rprop', lr: 2, rprop: { allow_minibatch: true, variant } }));
      await t.run();
      return Array.from(t.model.params);
    };
    expect(await run('irprop+')).not.toEqual(await run('irprop-'));
  });
});

describe('whose checkpoint, on what data', () => {
  const FINGERPRINT = { samples: 60, bytes: 1020, sha256: 'a'.repeat(64) };

  it('records the run id and the data fingerprint, and reads them back', async () => {
    const cfg = config();
    const t = trainer(cfg);
    await t.run({ shouldStop: () => t.state().epochsDone === 1 });
    const file = fresh();
    saveCheckpoint(file, { ...t.snapshot(), config: cfg, runId: '0123456789abcdef', data: FINGERPRINT });
    const ck = loadCheckpoint(file);
    expect(ck.runId).toBe('0123456789abcdef');
    expect(ck.data).toEqual(FINGERPRINT);
    expect(restoreCheckpoint(file, ck, trainer(cfg), FINGERPRINT)).toEqual([]);
  });

  it('the data changed since: refused with both fingerprints', async () => {
    const cfg = config();
    const t = trainer(cfg);
    await t.run({ shouldStop: () => t.state().epochsDone === 1 });
    const file = fresh();
    saveCheckpoint(file, { ...t.snapshot(), config: cfg, data: FINGERPRINT });
    const now = { ...FINGERPRINT, sha256: 'b'.repeat(64) };
    const err = errorOf(WeightsFileError, () => restoreCheckpoint(file, loadCheckpoint(file), trainer(cfg), now));
    expect(err.message).toBe(
      `${file}: the training data changed: the run trained on 60 samples, 1020 bytes, sha256 aaaaaaaaaaaa, ` +
        'the data files now give 60 samples, 1020 bytes, sha256 bbbbbbbbbbbb; put the original files back or start a new run',
    );
  });

  it('an older checkpoint without a fingerprint: restored, with a warning', async () => {
    const cfg = config();
    const t = trainer(cfg);
    await t.run({ shouldStop: () => t.state().epochsDone === 1 });
    const file = fresh();
    saveCheckpoint(file, { ...t.snapshot(), config: cfg });
    const ck = loadCheckpoint(file);
    expect([ck.runId, ck.data]).toEqual([null, null]);
    expect(restoreCheckpoint(file, ck, trainer(cfg), FINGERPRINT)).toEqual([
      `${file} records no fingerprint of its training data (written before they were recorded): the data is not checked`,
    ]);
  });
});

describe('checkpoints that cannot be trusted -> one line', () => {
  // A valid checkpoint's parts, to damage one at a time.
  async function parts(): Promise<{ tensors: Map<string, { shape: number[]; data: Float32Array }>; metadata: Record<string, string> }> {
    const cfg = config();
    const t = trainer(cfg);
    await t.run({ shouldStop: () => t.state().epochsDone === 1 });
    const file = fresh();
    saveCheckpoint(file, { ...t.snapshot(), config: cfg });
    return readSafetensors(file);
  }
  const edit = (json: string, f: (o: Record<string, unknown>) => void): string => {
    const o = JSON.parse(json) as Record<string, unknown>;
    f(o);
    return JSON.stringify(o);
  };

  type Damage = (p: Awaited<ReturnType<typeof parts>>) => void;
  const CASES: Array<[string, Damage, string]> = [
    ['a weights file', (p) => (p.metadata.format = 'mlp-mnist'), `not a checkpoint: metadata format is "mlp-mnist", expected "${CHECKPOINT_FORMAT}"`],
    ['no format', (p) => delete p.metadata.format, `not a checkpoint: metadata format is null, expected "${CHECKPOINT_FORMAT}"`],
    ['a newer version', (p) => (p.metadata.format_version = '2'), 'checkpoint format version "2" is not supported (expected 1)'],
    ['no state', (p) => delete p.metadata.state, 'metadata state is missing'],
    ['no config', (p) => delete p.metadata.config, 'metadata config is missing'],
    ['negative position', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.batchesDone = -1))), 'metadata state: batchesDone: Too small: expected number to be >=0'],
    ['short RNG state', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.rng = [1, 2, 3]))), 'metadata state: rng: Too small: expected array to have >=4 items'],
    ['RNG word beyond u32', (p) => (p.metadata.state = edit(p.metadata.state, (o) => ((o.rng as number[])[2] = 2 ** 32))), 'metadata state: rng.2: Too big: expected number to be <=4294967295'],
    ['unknown state key', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.extra = 1))), 'metadata state: (root): Unrecognized key: "extra"'],
    ['metrics rows missing', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.metrics = []))), 'metadata state: 0 metrics rows for 1 finished epochs'],
    // A state no run writes: it would train on into NaN or nonsense metrics (0/0 loss, Infinity GFLOP/s).
    ['a position without its sums', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.batchesDone = 9))), 'metadata state: sums.batches is 1, but batchesDone is 9'],
    ['batches without samples', (p) => (p.metadata.state = edit(p.metadata.state, (o) => {
      o.batchesDone = 9;
      Object.assign(o.sums as object, { batches: 9, seen: 0, seconds: 0.1 });
    })), 'metadata state: sums.seen is 0, fewer than the 9 batches done (a batch has at least 1 sample)'],
    ['more correct than seen', (p) => (p.metadata.state = edit(p.metadata.state, (o) => {
      o.batchesDone = 1;
      Object.assign(o.sums as object, { batches: 1, seen: 7, correct: 8, seconds: 0.1 });
    })), 'metadata state: sums.correct is 8, more than the 7 samples seen'],
    ['a negative loss sum', (p) => (p.metadata.state = edit(p.metadata.state, (o) => {
      o.batchesDone = 1;
      Object.assign(o.sums as object, { batches: 1, seen: 7, data: -5, seconds: 0.1 });
    })), 'metadata state: sums.data is -5, expected >= 0'],
    ['batches in no time', (p) => (p.metadata.state = edit(p.metadata.state, (o) => {
      o.batchesDone = 1;
      Object.assign(o.sums as object, { batches: 1, seen: 7, seconds: 0 });
    })), 'metadata state: sums.seconds is 0 after 1 batches'],
    ['an infinite sum (1e999 in the JSON)', (p) => (p.metadata.state = p.metadata.state.replace(/"l2":[^,]+,/, '"l2":1e999,')), 'metadata state: sums.l2: Invalid input: expected number, received Infinity'],
    ['metrics rows out of order', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (((o.metrics as Array<{ epoch: number }>)[0]).epoch = 2))), 'metadata state: metrics row 1 is of epoch 2'],
    ['a best epoch not done yet', (p) => (p.metadata.state = edit(p.metadata.state, (o) => (o.best = { epoch: 3, val_accuracy: 0.5 }))), 'metadata state: best.epoch is 3, after the 1 epochs done'],
    ['a best accuracy its row does not have', (p) => (p.metadata.state = edit(p.metadata.state, (o) => ((o.best as { val_accuracy: number }).val_accuracy = 2))), 'metadata state: best.val_accuracy is 2, but epoch 1\'s row says VAL'],
    ['a NaN parameter', (p) => (p.tensors.get('params')!.data[17] = NaN), 'tensor params: value 17 is NaN'],
    ['a data fingerprint that is not one', (p) => (p.metadata.data = '{"samples": 60, "bytes": 1020}'), 'metadata data: sha256: Invalid input: expected string, received undefined'],
    ['an unknown optimizer', (p) => (p.metadata.optimizer = 'adagrad'), 'metadata optimizer "adagrad" is not one of sgd, nesterov, adam, adamw, rprop'],
    ['no params', (p) => p.tensors.delete('params'), 'missing tensor params'],
    ['no velocity', (p) => p.tensors.delete('velocity'), 'missing tensor velocity'],
    ['params as a matrix', (p) => (p.tensors.get('params')!.shape = [p.tensors.get('params')!.data.length, 1]), 'tensor params: expected 1 dimension, found [103,1]'],
    ['short velocity', (p) => p.tensors.set('velocity', { shape: [3], data: new Float32Array(3) }), 'tensor velocity: 3 values, but params has 103'],
    ['short best copy', (p) => p.tensors.set('best_params', { shape: [2], data: new Float32Array(2) }), 'tensor best_params: 2 values, but params has 103'],
  ];

  it.each(CASES)('%s', async (_name, damage, problem) => {
    const p = await parts();
    const val = (JSON.parse(p.metadata.state) as { metrics: Array<{ val_accuracy: number }> }).metrics[0].val_accuracy;
    damage(p);
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const err = errorOf(WeightsFileError, () => loadCheckpoint(file));
    expect(err.message).toBe(`${file}: ${problem.replace('VAL', String(val))}`);
  });

  // An optimizer with state scalars (iRprop+'s last E) writes them as metadata optimizer_scalars.
  it.each<[string, (m: Record<string, string>) => void, string]>([
    ['no optimizer_scalars', (m) => delete m.optimizer_scalars, 'metadata optimizer_scalars is missing'],
    ['a list', (m) => (m.optimizer_scalars = '[1]'), 'metadata optimizer_scalars: expected an object of prev_loss, found [1]'],
    ['prev_loss missing', (m) => (m.optimizer_scalars = '{}'), 'metadata optimizer_scalars: prev_loss is null, expected a finite number'],
    ['prev_loss a string', (m) => (m.optimizer_scalars = '{"prev_loss": "3"}'), 'metadata optimizer_scalars: prev_loss is "3", expected a finite number'],
    ['prev_loss infinite (1e999 in the JSON)', (m) => (m.optimizer_scalars = '{"prev_loss": 1e999}'), 'metadata optimizer_scalars: prev_loss is Infinity, expected a finite number'],
    ['an unknown scalar', (m) => (m.optimizer_scalars = '{"prev_loss": 1, "lr": 2}'), 'metadata optimizer_scalars: unknown "lr" (expected prev_loss)'],
  ])('rprop: %s', async (_name, damage, problem) => {
    const cfg = config({ optimizer: 'rprop', lr: 2, rprop: { allow_minibatch: true, variant: 'irprop+' } });
    const t = trainer(cfg);
    await t.run({ shouldStop: () => t.state().epochsDone === 1 });
    const file = fresh();
    saveCheckpoint(file, { ...t.snapshot(), config: cfg });
    const p = readSafetensors(file);
    expect(JSON.parse(p.metadata.optimizer_scalars)).toEqual(t.optimizerScalars);
    expect(t.optimizerScalars.prev_loss).toBeGreaterThan(0);
    damage(p.metadata);
    writeSafetensors(file, p.tensors, p.metadata);
    expect(errorOf(WeightsFileError, () => loadCheckpoint(file)).message).toBe(`${file}: ${problem}`);
  });

  it('a checkpoint written before the optimizer was recorded loads as sgd', async () => {
    const p = await parts();
    delete p.metadata.optimizer;
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const ck = loadCheckpoint(file);
    expect(ck.optimizer.name).toBe('sgd');
    expect(Array.from(ck.optimizer.state.velocity)).toEqual(Array.from(p.tensors.get('velocity')!.data));
  });

  it('state JSON that does not parse', async () => {
    const p = await parts();
    p.metadata.state = '{"epochsDone": 1,';
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    expect(errorOf(WeightsFileError, () => loadCheckpoint(file)).message).toMatch(new RegExp(`^${file}: metadata state is not valid JSON \\(.+\\)$`));
  });

  it('sums of more samples than the position\'s batches hold, restored', async () => {
    const p = await parts();
    p.metadata.state = edit(p.metadata.state, (o) => {
      o.batchesDone = 2;
      Object.assign(o.sums as object, { batches: 2, seen: 15, seconds: 0.1 });
    });
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const err = errorOf(WeightsFileError, () => restoreCheckpoint(file, loadCheckpoint(file), trainer(config())));
    expect(err.message).toBe(`${file}: metadata state: sums.seen is 15, more than 2 batches of 7 hold`);
  });

  it('a checkpoint of another network, restored into this one', async () => {
    const p = await parts();
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const other = trainer(ConfigSchema.parse({ model: { layers: [16, 6, 3] }, training: { epochs: 4, batch_size: 7 } }));
    const err = errorOf(WeightsFileError, () => restoreCheckpoint(file, loadCheckpoint(file), other));
    expect(err.message).toBe(`${file}: tensor params: 103 values, but the network of its config has 123`);
  });
});
