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

function config(extra: Record<string, unknown> = {}): Config {
  return ConfigSchema.parse({
    model: { layers: [16, 5, 3], seed: 4 },
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

  it('a run restored mid-epoch ends bit-identical to one never stopped', async () => {
    const cfg = config();
    const whole = trainer(cfg);
    await whole.run();
    const first = trainer(cfg);
    await first.run({ shouldStop: () => first.state().epochsDone === 1 && first.state().batchesDone === 3 });
    const file = fresh();
    saveCheckpoint(file, { ...first.snapshot(), config: cfg });
    const second = trainer(cfg);
    second.model.params.fill(0); // restore must not depend on the fresh init
    restoreCheckpoint(file, loadCheckpoint(file), second);
    const result = await second.run();
    expect(Array.from(second.model.params)).toEqual(Array.from(whole.model.params));
    expect(Array.from(second.bestParams!)).toEqual(Array.from(whole.bestParams!));
    expect(result.metrics.map((m) => [m.loss, m.train_accuracy, m.val_accuracy])).toEqual(
      whole.state().metrics.map((m) => [m.loss, m.train_accuracy, m.val_accuracy]),
    );
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
    ['an unknown optimizer', (p) => (p.metadata.optimizer = 'adagrad'), 'metadata optimizer "adagrad" is not one of sgd'],
    ['no params', (p) => p.tensors.delete('params'), 'missing tensor params'],
    ['no velocity', (p) => p.tensors.delete('velocity'), 'missing tensor velocity'],
    ['params as a matrix', (p) => (p.tensors.get('params')!.shape = [p.tensors.get('params')!.data.length, 1]), 'tensor params: expected 1 dimension, found [103,1]'],
    ['short velocity', (p) => p.tensors.set('velocity', { shape: [3], data: new Float32Array(3) }), 'tensor velocity: 3 values, but params has 103'],
    ['short best copy', (p) => p.tensors.set('best_params', { shape: [2], data: new Float32Array(2) }), 'tensor best_params: 2 values, but params has 103'],
  ];

  it.each(CASES)('%s', async (_name, damage, problem) => {
    const p = await parts();
    damage(p);
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const err = errorOf(WeightsFileError, () => loadCheckpoint(file));
    expect(err.message).toBe(`${file}: ${problem}`);
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

  it('a checkpoint of another network, restored into this one', async () => {
    const p = await parts();
    const file = fresh();
    writeSafetensors(file, p.tensors, p.metadata);
    const other = trainer(ConfigSchema.parse({ model: { layers: [16, 6, 3] }, training: { epochs: 4, batch_size: 7 } }));
    const err = errorOf(WeightsFileError, () => restoreCheckpoint(file, loadCheckpoint(file), other));
    expect(err.message).toBe(`${file}: tensor params: 103 values, but the network of its config has 123`);
  });
});
