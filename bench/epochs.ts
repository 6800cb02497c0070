// The epoch rows (--epoch): whole training runs as mlp-train runs them, per
// kernel and thread count; seconds and effective GFLOP/s.
import { defaultConfig, type Config } from '../src/config/schema.js';
import { loadRunData } from '../src/data/load.js';
import { selectKernels, type KernelName } from '../src/kernels/matmul.js';
import { Mlp } from '../src/model/mlp.js';
import { Trainer } from '../src/train/trainer.js';
import { median, variants } from './timing.js';

export interface EpochRow { kernel: string; workload: string; seconds: number; gflops: number }

/** Effective FLOPs per sample of 784-H-10 (forward, weight gradients, hidden delta), as the issue counts them. */
const effectiveFlops = (H: number): number => 4 * 784 * H + 60 * H;

/** The epoch rows of the workloads named in `only` (W1, W2, W3; all when absent). */
export async function benchEpochs(names: KernelName[], repeat: number, only?: readonly string[]): Promise<EpochRow[]> {
  const workloads: Array<{ name: string; H: number; batch: number | 'full' }> = [
    { name: 'W1 784-800-10 batch 128, 1 epoch', H: 800, batch: 128 },
    { name: 'W2 784-300-10 batch 128, 1 epoch', H: 300, batch: 128 },
    { name: 'W3 784-300-10 full batch, 1 step', H: 300, batch: 'full' },
  ];
  const rows: EpochRow[] = [];
  for (const w of workloads.filter((x) => !only || only.includes(x.name.split(' ')[0]))) {
    for (const { name, threads } of variants(names)) {
      if (name === 'naive') continue; // minutes per epoch
      const cfg: Config = defaultConfig();
      cfg.training.threads = threads;
      cfg.model.layers = [784, w.H, 10];
      // the WebAssembly rows take the median of `repeat` epochs; the TypeScript ones (30 s an epoch) one
      cfg.training.epochs = name === 'wasm' ? repeat : 1;
      cfg.training.batch_size = w.batch;
      cfg.training.kernel = name;
      const train = loadRunData(cfg, 'bench', { train: true, test: false }).train!;
      const model = new Mlp(cfg.model);
      model.init(cfg.model.init, cfg.model.seed, cfg.model.output_bias);
      const result = await new Trainer(cfg, model, train, null).run();
      const s = median(result.metrics.map((m) => m.seconds));
      rows.push({ kernel: name === 'wasm' ? `${selectKernels(name).name} x${threads}` : selectKernels(name).name, workload: w.name, seconds: s, gflops: (effectiveFlops(w.H) * train.n) / s / 1e9 });
    }
  }
  return rows;
}
