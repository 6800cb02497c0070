import { describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../src/config/schema.js';
import { loadRunData } from '../../src/data/load.js';
import { limitDataset, loadSplit } from '../../src/data/mnist.js';
import { DivergenceError } from '../../src/errors.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { Mlp } from '../../src/model/mlp.js';
import { Trainer } from '../../src/train/trainer.js';

function config(raw: Record<string, unknown>): Config {
  return ConfigSchema.parse(raw);
}

async function trainRun(cfg: Config): Promise<{ model: Mlp; trainer: Trainer; result: Awaited<ReturnType<Trainer['run']>> }> {
  const data = loadRunData(cfg, 'test', { train: true, test: false });
  const model = new Mlp(cfg.model);
  model.init(cfg.model.init, cfg.model.seed);
  const trainer = new Trainer(cfg, model, data.train!, data.validation);
  const result = await trainer.run();
  return { model, trainer, result };
}

const test1000 = limitDataset(loadSplit({ images: null, labels: null }, 'test', 10), 2000);

describe('sanity checks at initialisation (Karpathy, "A Recipe for Training Neural Networks")', () => {
  it('mse with sigmoid outputs near 0.5: about 10 x 1/2 x 0.25 = 1.25 per sample', () => {
    const model = new Mlp({ layers: [784, 300, 10], hidden: 'sigmoid', output: 'sigmoid' });
    model.init('glorot_uniform', 1);
    const loss = evaluate(model, test1000, 'mse').loss;
    // Outputs are 0.5 + e with small e: E = 1.25 + 1/2 Σ e^2 (+ terms that average out); observed 1.27.
    expect(loss).toBeGreaterThan(1.2);
    expect(loss).toBeLessThan(1.35);
  });

  it('softmax cross-entropy: about ln 10 = 2.303 per sample', () => {
    const model = new Mlp({ layers: [784, 300, 10], hidden: 'sigmoid', output: 'softmax' });
    model.init('glorot_uniform', 1);
    const loss = evaluate(model, test1000, 'cross_entropy').loss;
    // Near-uniform softmax at init: -log(1/10) plus the spread of the logits; observed 2.33.
    expect(Math.abs(loss - Math.log(10))).toBeLessThan(0.1);
  });
});

describe('training', () => {
  it('overfits two samples to almost zero loss', async () => {
    const cfg = config({
      data: { limit: 2 },
      model: { layers: [784, 30, 10] },
      training: { epochs: 300, batch_size: 'full', lr: 2, momentum: 0.9, lr_schedule: { type: 'constant' } },
    });
    const { result } = await trainRun(cfg);
    const last = result.metrics.at(-1)!;
    expect(last.train_accuracy).toBe(1);
    expect(last.loss).toBeLessThan(1e-3); // observed ~1e-4
  });

  it('a seeded short run on 5000 samples clears 90% test accuracy', async () => {
    const cfg = config({
      data: { limit: 5000 },
      model: { layers: [784, 100, 10], seed: 3 },
      training: { epochs: 3, batch_size: 50, lr: 0.5, momentum: 0.9, lr_schedule: { type: 'constant' } },
    });
    const { model, result } = await trainRun(cfg);
    expect(result.metrics).toHaveLength(3);
    expect(result.metrics[2].loss).toBeLessThan(result.metrics[0].loss);
    const acc = evaluate(model, loadSplit({ images: null, labels: null }, 'test', 10), 'mse').accuracy;
    // Observed 91.9% with this seed; 100% would be suspect.
    expect(acc).toBeGreaterThan(0.9);
    expect(acc).toBeLessThan(0.99);
  });

  it('the same config and seed give bit-identical weights; another seed does not', async () => {
    const raw = {
      data: { limit: 600, validation: 100 },
      model: { layers: [784, 32, 10], seed: 11 },
      regularization: { discriminative: 0.1, l2: 0.001 },
      training: { epochs: 2, batch_size: 32 },
    };
    const a = await trainRun(config(raw));
    const b = await trainRun(config(raw));
    const c = await trainRun(config({ ...raw, model: { ...raw.model, seed: 12 } }));
    expect(Buffer.from(a.model.params.buffer).equals(Buffer.from(b.model.params.buffer))).toBe(true);
    expect(Buffer.from(a.model.params.buffer).equals(Buffer.from(c.model.params.buffer))).toBe(false);
    expect(a.result.metrics.map((m) => m.loss)).toEqual(b.result.metrics.map((m) => m.loss));
  });

  it('early stopping ends the run `patience` epochs after the best validation epoch and keeps the best weights', async () => {
    // A learning rate so small that the validation accuracy cannot change: epoch 1 stays the best.
    const cfg = config({
      data: { limit: 500, validation: 100 },
      model: { layers: [784, 16, 10] },
      training: { epochs: 20, lr: 1e-12, early_stopping: { patience: 3 } },
    });
    const { model, result } = await trainRun(cfg);
    expect(result.stopped).toBe('early_stopping');
    expect(result.metrics).toHaveLength(4);
    expect(result.best?.epoch).toBe(1);
    expect(result.best?.params).not.toBe(model.params);
  });

  it('divergence stops the run with a DivergenceError naming epoch and batch', async () => {
    const cfg = config({
      data: { limit: 500 },
      model: { layers: [784, 64, 10], hidden: 'relu', output: 'softmax' },
      loss: 'cross_entropy',
      training: { epochs: 5, lr: 1e30, batch_size: 50 },
    });
    await expect(trainRun(cfg)).rejects.toThrow(DivergenceError);
    await expect(trainRun(cfg)).rejects.toThrow(/training diverged at epoch \d+, batch \d+: the loss is (NaN|Infinity|-Infinity) \(the learning rate 1e\+30 is likely too large\)/);
  });
});
