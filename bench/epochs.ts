// The epoch rows (--epoch): whole training runs as mlp-train runs them, per
// kernel and thread count; seconds and effective GFLOP/s.
import { defaultConfig, type Config, type DataPreset } from '../src/config/schema.js';
import { loadRunData } from '../src/data/load.js';
import { selectKernels, type KernelName } from '../src/kernels/matmul.js';
import { Mlp } from '../src/model/mlp.js';
import { Trainer } from '../src/train/trainer.js';
import { median, variants } from './timing.js';

export interface EpochRow { kernel: string; workload: string; seconds: number; gflops: number }

/**
 * Effective FLOPs per sample (the products only, no element-wise work): 2·in·out
 * for each layer's forward product and 2·in·out for its weight gradient, and
 * 2·in·out for the delta it passes down, which the first layer has none of.
 * 784-H-10: 4·784·H + 60·H; 784-1024-1024-10: 4·784·1024 + 6·1024·1024 + 6·1024·10.
 * (Mlp.trainFlopsPerSample's count, which mlp-train's GFLOP/s use.)
 */
export function effectiveFlops(layers: readonly number[]): number {
  let flops = 0;
  for (let l = 1; l < layers.length; l++) flops += (l === 1 ? 4 : 6) * layers[l - 1] * layers[l];
  return flops;
}

interface Workload { name: string; layers: number[]; batch: number | 'full'; setup?: (cfg: Config) => void }

/** W4's step: ReLU hidden layers (he_uniform), softmax and cross-entropy, lr 0.1; the rest W1's (sgd, momentum 0.9). */
function reluCrossEntropy(cfg: Config): void {
  cfg.model.hidden = 'relu';
  cfg.model.init = 'he_uniform';
  cfg.model.output = 'softmax';
  cfg.loss = 'cross_entropy';
  cfg.training.lr = 0.1;
}

/** W4 with the record rows' regularization: dropout 0.2 on the inputs and 0.5 on the hidden units, max-norm 3.5. */
function reluDropout(cfg: Config): void {
  reluCrossEntropy(cfg);
  cfg.regularization.dropout = { input: 0.2, hidden: 0.5 };
  cfg.regularization.max_norm = 3.5;
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'W1 784-800-10 batch 128, 1 epoch', layers: [784, 800, 10], batch: 128 },
  { name: 'W2 784-300-10 batch 128, 1 epoch', layers: [784, 300, 10], batch: 128 },
  { name: 'W3 784-300-10 full batch, 1 step', layers: [784, 300, 10], batch: 'full' },
  { name: 'W4 784-1024-1024-10 relu, ce, batch 128, 1 epoch', layers: [784, 1024, 1024, 10], batch: 128, setup: reluCrossEntropy },
  { name: 'W4d W4 + dropout 0.2/0.5, max-norm 3.5, 1 epoch', layers: [784, 1024, 1024, 10], batch: 128, setup: reluDropout },
];

/** The workloads' short names: W1, W2, .. */
export const WORKLOAD_IDS: readonly string[] = WORKLOADS.map((w) => w.name.split(' ')[0]);

/** The epoch rows of the workloads named in `only` (W1 .. W4d; all when absent). */
export async function benchEpochs(names: KernelName[], repeat: number, only?: readonly string[], preset: DataPreset = 'mnist'): Promise<EpochRow[]> {
  const rows: EpochRow[] = [];
  for (const w of WORKLOADS.filter((_, i) => !only || only.includes(WORKLOAD_IDS[i]))) {
    for (const { name, threads } of variants(names)) {
      if (name === 'naive') continue; // minutes per epoch
      const cfg: Config = defaultConfig();
      cfg.training.threads = threads;
      cfg.data.preset = preset;
      cfg.model.layers = [...w.layers];
      w.setup?.(cfg);
      // the WebAssembly rows take the median of `repeat` epochs; the TypeScript ones (30 s an epoch) one
      cfg.training.epochs = name === 'wasm' ? repeat : 1;
      cfg.training.batch_size = w.batch;
      cfg.training.kernel = name;
      const train = loadRunData(cfg, 'bench', { train: true, test: false }).train!;
      const model = new Mlp(cfg.model);
      model.init(cfg.model.init, cfg.model.seed, cfg.model.output_bias);
      const result = await new Trainer(cfg, model, train, null).run();
      const s = median(result.metrics.map((m) => m.seconds));
      const kernel = name === 'wasm' ? `${selectKernels(name).name} x${threads}` : selectKernels(name).name;
      rows.push({ kernel, workload: w.name, seconds: s, gflops: (effectiveFlops(w.layers) * train.n) / s / 1e9 });
    }
  }
  return rows;
}
