// Every knob of mlp-mnist lives here, once, with its default and a one-line
// description. Config files and --set only override; an empty file is a
// valid config. Unknown keys are errors (strict objects).
import { z } from 'zod';
import { DataSchema } from './data-schema.js';

export { DATA_PRESETS, DataSchema } from './data-schema.js';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const posReal = z.number().positive().finite();
const nonNegReal = z.number().nonnegative().finite();

const MAXOUT_PIECES_DEFAULT = 2;

export const ModelSchema = z
  .strictObject({
    layers: z
      .array(posInt)
      .min(2)
      .default([784, 300, 10])
      .describe('layer widths in units, input first: [784, hidden..., 10] (a maxout layer of H units has H*k weight rows)'),
    hidden: z
      .enum(['sigmoid', 'tanh', 'relu', 'softplus', 'maxout'])
      .default('sigmoid')
      .describe('activation of the hidden layers; softplus = ln(1 + e^z), maxout = the max of maxout_pieces linear pieces per unit'),
    maxout_pieces: z
      .number()
      .int()
      .min(2)
      .default(MAXOUT_PIECES_DEFAULT)
      .describe('hidden: maxout only: pieces k per unit; a layer of H units has weight [H*k, in], unit h = max_j z[h*k + j]'),
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

const dropRate = (what: string): z.ZodDefault<z.ZodNumber> =>
  z.number().min(0).lt(1).default(0).describe(`probability of dropping ${what} in a training step (kept ones are scaled by 1/(1-p)); 0 = off`);

export const DropoutSchema = z
  .strictObject({
    input: dropRate('each input pixel'),
    hidden: dropRate("each hidden unit's output"),
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
    dropout: DropoutSchema.describe('inverted dropout during training (src/model/dropout.ts); evaluation uses no mask'),
    max_norm: nonNegReal
      .default(0)
      .describe("c: after each step every unit's incoming weight vector (a row of W_l, not the bias) of norm over c is rescaled to norm c; 0 = off"),
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

/** Defaults that the cross-field rules compare with (a value set to its default counts as not set). */
const LR_DEFAULT = 2;
const MOMENTUM_DEFAULT = 0.9;

const beta1 = z.number().min(0).lt(1).default(0.9).describe('decay of the running mean of g (first moment)');
const beta2 = z.number().min(0).lt(1).default(0.999).describe('decay of the running mean of g^2 (second moment)');
const eps = posReal.default(1e-8).describe('added to sqrt of the bias-corrected second moment, as in PyTorch');

export const AdamSchema = z
  .strictObject({ beta1, beta2, eps })
  .prefault({});

export const AdamWSchema = z
  .strictObject({
    beta1,
    beta2,
    eps,
    weight_decay: nonNegReal
      .default(0.01)
      .describe('decoupled decay W *= 1 - lr weight_decay before each step, weights only (not regularization.l2, which is in E)'),
  })
  .prefault({});

export const RpropSchema = z
  .strictObject({
    eta_minus: z.number().gt(0).lt(1).default(0.5).describe("factor of a weight's step when its gradient changes sign"),
    eta_plus: z.number().gt(1).finite().default(1.2).describe("factor of a weight's step while its gradient keeps its sign"),
    step_init: posReal.default(0.01).describe("every weight's first step (PyTorch's Rprop lr); rprop uses no training.lr or lr_schedule"),
    step_min: nonNegReal.default(1e-6).describe('smallest step'),
    step_max: posReal.default(50).describe('largest step'),
    variant: z
      .enum(['irprop-', 'irprop+'])
      .default('irprop-')
      .describe("irprop- (PyTorch's Rprop), or irprop+: after a sign change also take back the last move if E rose (Igel & Huesken 2000)"),
    allow_minibatch: z.boolean().default(false).describe("allow batch sizes other than 'full' (the sign rule assumes one E for every step)"),
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
    optimizer: z
      .enum(['sgd', 'nesterov', 'adam', 'adamw', 'rprop'])
      .default('sgd')
      .describe('the update: sgd (heavy-ball momentum), nesterov, adam, adamw or rprop; README "Choosing an optimizer"'),
    lr: posReal
      .default(LR_DEFAULT)
      .describe('sgd, nesterov: lr of W -= lr (1/d) dE/dW (momentum aside); adam, adamw: the step size (PyTorch lr); rprop: unused'),
    momentum: z
      .number()
      .min(0)
      .lt(1)
      .default(MOMENTUM_DEFAULT)
      .describe('momentum of sgd (heavy ball; 0 = plain gradient descent) and nesterov; unused by the others'),
    adam: AdamSchema.describe('optimizer: adam'),
    adamw: AdamWSchema.describe('optimizer: adamw'),
    rprop: RpropSchema.describe('optimizer: rprop'),
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
    const paths = [c.data.train.images, c.data.train.labels, c.data.test.images, c.data.test.labels];
    if (c.data.dir !== null && paths.some((p) => p !== null)) {
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'dir'],
        message: 'give either data.dir or data.train/data.test file paths, not both',
      });
    }
    if (c.model.hidden !== 'maxout' && c.model.maxout_pieces !== MAXOUT_PIECES_DEFAULT) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'maxout_pieces'],
        message: `maxout_pieces is used only with model.hidden: maxout (hidden is ${c.model.hidden}): remove it`,
      });
    }
    if (c.training.early_stopping.patience > 0 && c.data.validation === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'early_stopping', 'patience'],
        message: 'early stopping needs a validation split (data.validation > 0)',
      });
    }
    for (const [key, message] of optimizerProblems(c.training)) ctx.addIssue({ code: 'custom', path: ['training', ...key], message });
  });

/**
 * The combinations of training.optimizer and the other training keys that
 * make no sense, each as [key path under training, why]. A key left at its
 * default counts as not set.
 */
function optimizerProblems(t: z.output<typeof TrainingSchema>): Array<[string[], string]> {
  const out: Array<[string[], string]> = [];
  const name = t.optimizer;
  if (name === 'nesterov' && t.momentum === 0) out.push([['momentum'], 'nesterov needs training.momentum > 0 (with 0 it is sgd without momentum)']);
  if ((name === 'adam' || name === 'adamw' || name === 'rprop') && t.momentum !== MOMENTUM_DEFAULT) {
    const own = name === 'rprop' ? '' : ` (its momentum is training.${name}.beta1)`;
    out.push([['momentum'], `${name} does not use training.momentum${own}: remove it`]);
  }
  if ((name === 'adam' || name === 'adamw') && t.lr >= 1) {
    out.push([['lr'], `${name}'s lr is a step size: each weight moves by up to about lr a step, and lr ${t.lr} is far beyond the scale of the weights; use one like PyTorch's default 0.001`]);
  }
  if (name === 'adamw' && t.lr * t.adamw.weight_decay >= 1) {
    out.push([['adamw', 'weight_decay'], `weight_decay ${t.adamw.weight_decay} x training.lr ${t.lr} >= 1 zeroes or flips every weight each step`]);
  }
  if (name === 'rprop') out.push(...rpropProblems(t));
  return out;
}

function rpropProblems(t: z.output<typeof TrainingSchema>): Array<[string[], string]> {
  const out: Array<[string[], string]> = [];
  const r = t.rprop;
  if (t.batch_size !== 'full' && !r.allow_minibatch) {
    out.push([['optimizer'], "rprop follows sign changes of the full-batch gradient, and a mini-batch gradient changes sign from batch to batch: set training.batch_size: full (or training.rprop.allow_minibatch: true to force it)"]);
  }
  if (t.lr !== LR_DEFAULT) out.push([['lr'], 'rprop does not use training.lr (its first step is training.rprop.step_init): remove it']);
  if (JSON.stringify(t.lr_schedule) !== JSON.stringify(LrScheduleSchema.parse({}))) {
    out.push([['lr_schedule'], 'rprop does not use training.lr_schedule (each weight adapts its own step): remove it']);
  }
  if (r.step_min > r.step_max) out.push([['rprop', 'step_min'], `step_min ${r.step_min} is above step_max ${r.step_max}`]);
  else if (r.step_init < r.step_min || r.step_init > r.step_max) {
    out.push([['rprop', 'step_init'], `step_init ${r.step_init} is outside [step_min, step_max] = [${r.step_min}, ${r.step_max}]`]);
  }
  return out;
}

export type Config = z.output<typeof ConfigSchema>;
export type ModelConfig = Config['model'];
export type HiddenActivation = ModelConfig['hidden'];
export type OutputActivation = ModelConfig['output'];
export type InitScheme = ModelConfig['init'];
export type OutputBiasInit = ModelConfig['output_bias'];
export type LossName = Config['loss'];
export type LrSchedule = Config['training']['lr_schedule'];
export type KernelName = Config['training']['kernel'];
export type DataConfig = Config['data'];
export type DataPreset = DataConfig['preset'];

/** The config with every default filled in: what an empty file means. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
