// npm run bench [-- --epoch] [--json]
//
// 1. Kernels: for the layer shapes of the default network (batch 100,
//    784 -> 300 -> 10), check every fast kernel against the naive one on the
//    same inputs, then time forward and backward and report GFLOP/s
//    (median of repeats; FLOPs = 2·N·I·O per product).
// 2. With --epoch: one training epoch of the default config on all 60,000
//    images with each kernel, as `mlp-train` runs it (seconds, GFLOP/s).
//
// The machine is shared: compare variants within one run, and read medians.
import { Command } from 'commander';
import { defaultConfig } from '../src/config/schema.js';
import { loadRunData } from '../src/data/load.js';
import { KERNELS, type KernelName, type MatmulKernels } from '../src/kernels/matmul.js';
import { Mlp } from '../src/model/mlp.js';
import { Rng } from '../src/rng.js';
import { Trainer } from '../src/train/trainer.js';

interface Shape {
  name: string;
  N: number;
  I: number;
  O: number;
}

const SHAPES: Shape[] = [
  { name: 'hidden 100x784->300', N: 100, I: 784, O: 300 },
  { name: 'output 100x300->10', N: 100, I: 300, O: 10 },
];

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.uniform() - 1;
  return a;
}

interface Operands {
  X: Float32Array; W: Float32Array; b: Float32Array; dZ: Float32Array;
  Z: Float32Array; dX: Float32Array; dW: Float32Array; db: Float32Array;
}

function operands({ N, I, O }: Shape, rng: Rng): Operands {
  return {
    X: random(N * I, rng), W: random(O * I, rng), b: random(O, rng), dZ: random(N * O, rng),
    Z: new Float32Array(N * O), dX: new Float32Array(N * I), dW: new Float32Array(O * I), db: new Float32Array(O),
  };
}

/** Largest |a - b| over the outputs of kernel k vs naive. */
function verify(k: MatmulKernels, s: Shape, rng: Rng): number {
  const a = operands(s, rng);
  const ref = { Z: new Float32Array(a.Z.length), dX: new Float32Array(a.dX.length), dW: new Float32Array(a.dW.length), db: new Float32Array(a.db.length) };
  KERNELS.naive.forward(ref.Z, a.X, a.W, a.b, s.N, s.I, s.O);
  KERNELS.naive.backward(ref.dX, ref.dW, ref.db, a.dZ, a.X, a.W, s.N, s.I, s.O);
  k.forward(a.Z, a.X, a.W, a.b, s.N, s.I, s.O);
  k.backward(a.dX, a.dW, a.db, a.dZ, a.X, a.W, s.N, s.I, s.O);
  let worst = 0;
  for (const key of ['Z', 'dX', 'dW', 'db'] as const) {
    for (let i = 0; i < ref[key].length; i++) worst = Math.max(worst, Math.abs(ref[key][i] - a[key][i]));
  }
  return worst;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Median GFLOP/s of `fn`, which does `flops` FLOPs, over `reps` timed batches of calls of ~50 ms. */
function time(fn: () => void, flops: number, reps = 9): number {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < 50) { fn(); calls++; } // warm-up, and size a timed batch
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let c = 0; c < calls; c++) fn();
    const seconds = (performance.now() - start) / 1000;
    rates.push((flops * calls) / seconds / 1e9);
  }
  return median(rates);
}

interface KernelRow { kernel: string; shape: string; max_abs_diff: number; forward_gflops: number; backward_gflops: number }

function benchKernels(): KernelRow[] {
  const rows: KernelRow[] = [];
  const rng = new Rng(7, 0);
  for (const s of SHAPES) {
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      const k = KERNELS[name];
      const diff = verify(k, s, rng);
      if (diff !== 0) throw new Error(`${name} kernel disagrees with naive on ${s.name}: max |diff| ${diff}`);
      const a = operands(s, rng);
      const flop = 2 * s.N * s.I * s.O;
      const fwd = time(() => k.forward(a.Z, a.X, a.W, a.b, s.N, s.I, s.O), flop);
      const bwd = time(() => k.backward(a.dX, a.dW, a.db, a.dZ, a.X, a.W, s.N, s.I, s.O), 2 * flop);
      rows.push({ kernel: name, shape: s.name, max_abs_diff: diff, forward_gflops: fwd, backward_gflops: bwd });
    }
  }
  return rows;
}

interface EpochRow { kernel: string; samples: number; seconds: number; gflops: number }

async function benchEpoch(): Promise<EpochRow[]> {
  const rows: EpochRow[] = [];
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const cfg = defaultConfig();
    cfg.training.epochs = 1;
    cfg.training.kernel = name;
    const data = loadRunData(cfg, 'bench', { train: true, test: false });
    const model = new Mlp({ layers: cfg.model.layers, hidden: cfg.model.hidden, output: cfg.model.output });
    model.init(cfg.model.init, cfg.model.seed, cfg.model.output_bias);
    const result = await new Trainer(cfg, model, data.train, null).run();
    const m = result.metrics[0];
    rows.push({ kernel: name, samples: data.train.n, seconds: m.seconds, gflops: m.gflops });
  }
  return rows;
}

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--epoch', 'also time one training epoch of the default config per kernel')
    .option('--json', 'print the results as JSON on stdout')
    .parse(process.argv)
    .opts<{ epoch?: boolean; json?: boolean }>();

  const kernels = benchKernels();
  const epochs = opts.epoch ? await benchEpoch() : [];
  if (opts.json) {
    process.stdout.write(JSON.stringify({ node: process.version, kernels, epochs }, null, 2) + '\n');
    return;
  }
  console.log(`node ${process.version}; every kernel verified equal to naive before timing`);
  console.log('kernel   shape                  forward GFLOP/s  backward GFLOP/s');
  for (const r of kernels) {
    console.log(`${r.kernel.padEnd(8)} ${r.shape.padEnd(22)} ${r.forward_gflops.toFixed(2).padStart(15)} ${r.backward_gflops.toFixed(2).padStart(17)}`);
  }
  for (const r of epochs) {
    console.log(`epoch    ${r.kernel.padEnd(8)} ${r.samples} images  ${r.seconds.toFixed(2)} s  ${r.gflops.toFixed(2)} GFLOP/s`);
  }
}

await main();
