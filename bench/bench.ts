// npm run bench [-- --epoch] [--repeat n] [--kernels naive,blocked,wasm] [--json | --markdown]
//
// 1. Kernels: for the products of a 784-800-10 net at batch 128 (and the
//    first layer of full-batch 784-300-10), check each kernel against the
//    naive one on the same inputs, then time it: ms per call and GFLOP/s
//    (median of repeats; FLOPs = 2·N·I·O per product).
//    Then the products as training runs them, in the WebAssembly memory (no
//    copies): sgemm 128x784x800 on dense random data with B = W^T row-major
//    and in the training pass's 16-column panels, and the first layer's
//    forward product and weight gradient on real MNIST rows, dense (gemm,
//    whose panels skip all-zero groups of 4) and sparse (spmm over the CSR of
//    the row pairs, or of the pixel pairs); GFLOP/s there count the dense
//    2·N·I·O.
// 2. With --epoch, end to end as mlp-train runs it, per kernel:
//    W1 = one epoch of 784-800-10 (sigmoid, mse, batch 128, 60,000 images),
//    W2 = the same for 784-300-10, W3 = one full-batch step of 784-300-10
//    (WebAssembly: the median of --repeat epochs, default 3);
//    seconds and effective GFLOP/s by the count 4·784·H + 60·H per sample.
//
// The machine is shared: compare variants within one run, and read medians.
import { Command } from 'commander';
import { defaultConfig, type Config } from '../src/config/schema.js';
import { loadRunData } from '../src/data/load.js';
import { availableParallelism } from 'node:os';
import { KERNELS, selectKernels, setKernelThreads, type KernelName, type MatmulKernels } from '../src/kernels/matmul.js';
import { FN, grainOf, runGemm, tileGrain, type WorkerPool } from '../src/kernels/wasm/pool.js';
import { wasmRuntime } from '../src/kernels/wasm/runtime.js';
import { PANEL_Q, panelFloats, panelIndex, ROW_MAJOR } from '../src/kernels/wasm/gemm-wat.js';
import { SPMM_TILE_Q } from '../src/kernels/wasm/sparse-wat.js';
import { Mlp } from '../src/model/mlp.js';
import { Rng } from '../src/rng.js';
import { Trainer } from '../src/train/trainer.js';

interface Case {
  name: string;
  N: number;
  I: number;
  O: number;
  op: 'forward' | 'backward'; // backward: dW and db, plus dX when withDX
  withDX: boolean;
  naive: boolean; // time the naive kernel too (not on the large full-batch product)
}

const CASES: Case[] = [
  { name: 'forward 128x784->800', N: 128, I: 784, O: 800, op: 'forward', withDX: false, naive: true },
  { name: 'weight grad 784x128x800', N: 128, I: 784, O: 800, op: 'backward', withDX: false, naive: true },
  { name: 'fwd+bwd 128x800->10', N: 128, I: 800, O: 10, op: 'backward', withDX: true, naive: true },
  { name: 'full batch 60000x784->300', N: 60000, I: 784, O: 300, op: 'forward', withDX: false, naive: false },
];

function random(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.uniform() - 1;
  return a;
}

/** Largest |fast - naive| relative to the largest |naive| entry, over the outputs of the case. */
function verify(k: MatmulKernels, c: Case, rng: Rng): number {
  const N = Math.min(c.N, 257); // the kernel code is the same at any N; keep naive quick
  const { I, O } = c;
  const X = random(N * I, rng), W = random(O * I, rng), b = random(O, rng), dZ = random(N * O, rng);
  const run = (m: MatmulKernels): Float32Array[] => {
    const out = [new Float32Array(N * O), new Float32Array(N * I), new Float32Array(O * I), new Float32Array(O)];
    m.forward(out[0], X, W, b, N, I, O);
    m.backward(out[1], out[2], out[3], dZ, X, W, N, I, O);
    return out;
  };
  const ref = run(KERNELS.naive);
  const got = run(k);
  let worst = 0;
  for (let j = 0; j < ref.length; j++) {
    let scale = 0;
    for (const v of ref[j]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < ref[j].length; i++) worst = Math.max(worst, Math.abs(ref[j][i] - got[j][i]) / scale);
  }
  return worst;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  return s[s.length >> 1];
}

/** Median ms per call of `fn` over `reps` timed batches of calls (each batch ~100 ms, at least one call). */
function time(fn: () => void, reps = 7): number {
  fn(); // warm-up (and tier-up of the wasm code)
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  const calls = Math.max(1, Math.round(100 / Math.max(once, 1e-3)));
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    for (let c = 0; c < calls; c++) fn();
    ms.push((performance.now() - start) / calls);
  }
  return median(ms);
}

interface KernelRow { kernel: string; case: string; rel_error: number; ms: number; gflops: number }

/** Each kernel, and the wasm one at every thread count up to the machine's cores. */
function variants(names: KernelName[]): Array<{ name: KernelName; threads: number }> {
  const out: Array<{ name: KernelName; threads: number }> = [];
  for (const name of names) {
    if (name !== 'wasm') out.push({ name, threads: 1 });
    else for (let t = 1; t <= availableParallelism(); t++) out.push({ name, threads: t });
  }
  return out;
}

function benchKernels(names: KernelName[]): KernelRow[] {
  const rows: KernelRow[] = [];
  const rng = new Rng(7, 0);
  for (const c of CASES) {
    for (const { name, threads } of variants(names)) {
      if (name === 'naive' && !c.naive) continue;
      setKernelThreads(threads);
      const sel = selectKernels(name);
      const k = sel.kernels;
      const err = verify(k, c, rng);
      const limit = name === 'blocked' || name === 'naive' ? 0 : 1e-5;
      if (!(err <= limit)) throw new Error(`${sel.name} disagrees with naive on ${c.name}: relative error ${err} > ${limit}`);
      const { N, I, O } = c;
      const X = random(N * I, rng), W = random(O * I, rng), b = random(O, rng), dZ = random(N * O, rng);
      const Z = new Float32Array(N * O), dX = new Float32Array(N * I), dW = new Float32Array(O * I), db = new Float32Array(O);
      const flop = c.op === 'forward' ? 2 * N * I * O : 2 * N * I * O * (c.withDX ? 3 : 1);
      const ms = time(
        c.op === 'forward'
          ? () => k.forward(Z, X, W, b, N, I, O)
          : c.withDX
            ? () => { k.forward(Z, X, W, b, N, I, O); k.backward(dX, dW, db, dZ, X, W, N, I, O); }
            : () => k.backward(null, dW, db, dZ, X, W, N, I, O),
        c.N > 1000 ? 3 : 7,
      );
      rows.push({ kernel: name === 'wasm' ? `${sel.name} x${threads}` : sel.name, case: c.name, rel_error: err, ms, gflops: flop / (ms / 1000) / 1e9 });
    }
  }
  return rows;
}

/** The products on buffers in the WebAssembly memory, each checked against the naive kernel first. */
function benchInMemory(): KernelRow[] {
  const rt = wasmRuntime().runtime;
  if (!rt) return [];
  const N = 128, I = 784, O = 800;
  const rng = new Rng(8, 0);
  const mnist = loadRunData(defaultConfig(), 'bench', { train: true, test: false }).train!;
  const dense = random(N * I, rng);
  const pixels = new Float32Array(N * I);
  for (let i = 0; i < N * I; i++) pixels[i] = mnist.images[i] / 255; // the first 128 training images
  const W = random(O * I, rng);
  // B = W^T [I, O], row-major and in the pass's 16-column panels (gemm-wat.ts)
  const WT = new Float32Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) WT[i * O + o] = W[o * I + i];
  const WP = new Float32Array(panelFloats(I, O));
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) WP[panelIndex(i, o, PANEL_Q, PANEL_Q * I)] = W[o * I + i];
  const zeroBias = new Float32Array(O);

  const { heap } = rt;
  const blocks: number[] = [];
  const put = (a: Float32Array | number): number => {
    const floats = typeof a === 'number' ? a : a.length;
    const at = heap.alloc(4 * floats);
    blocks.push(at);
    if (typeof a !== 'number') heap.f32(at, floats).set(a);
    return at;
  };
  const x = put(N * I), bRows = put(WT), bPanels = put(WP), c = put(N * O), R = put(N + 1), E = put(3 * N * I);
  const panelBytes = 4 * 5 * I;
  const panels = put((panelBytes / 4) * 64);
  const C = heap.f32(c, N * O);
  const rows: KernelRow[] = [];
  const flop = 2 * N * I * O;
  /** On 1, 2, .. threads: run once, check against `ref` (got(i) is the i-th value in ref's layout), time, add a row. */
  const measure = (label: string, ref: Float32Array, got: (i: number) => number, run: (pool: WorkerPool, threads: number) => void): void => {
    for (let threads = 1; threads <= availableParallelism(); threads++) {
      rt.setThreads(threads);
      const pool = rt.pool();
      run(pool, threads);
      let worst = 0, scale = 0;
      for (let i = 0; i < ref.length; i++) {
        scale = Math.max(scale, Math.abs(ref[i]));
        worst = Math.max(worst, Math.abs(ref[i] - got(i)));
      }
      if (!(worst <= 1e-5 * scale)) throw new Error(`${label} disagrees with naive: ${worst / scale}`);
      const ms = time(() => run(pool, threads));
      rows.push({ kernel: `wasm-${rt.variant} x${threads}`, case: `${label} (in memory)`, rel_error: worst / scale, ms, gflops: flop / (ms / 1000) / 1e9 });
    }
  };
  const tiles = Math.ceil(O / SPMM_TILE_Q);

  const cases = [
    ['sgemm dense random, B row-major', dense, 'gemm', false],
    ['sgemm dense random, B in 16-column panels', dense, 'gemm', true],
    ['MNIST rows, gemm, B in panels', pixels, 'gemm', true],
    ['MNIST rows, spmm, B in panels', pixels, 'spmm', true],
  ] as const;
  for (const [label, X, kernel, panelled] of cases) {
    heap.f32(x, N * I).set(X);
    const b = panelled ? bPanels : bRows;
    const [ldb, bps] = panelled ? [PANEL_Q, PANEL_Q * I] : [O, ROW_MAJOR];
    const ref = new Float32Array(N * O);
    KERNELS.naive.forward(ref, X, W, zeroBias, N, I, O);
    measure(`${label} 128x784x800`, ref, (i) => C[i], kernel === 'spmm'
      ? (pool, threads) => {
          rt.exports.csr_pairs(x, N, I, ldb, R, E);
          pool.run(FN.spmm, tiles, tileGrain(tiles, threads), 0, 0, c, O, ROW_MAJOR, R, N, b, bps, O, 0);
        }
      : (pool) => runGemm(pool, panels, panelBytes, c, O, ROW_MAJOR, x, I, 1, b, ldb, bps, N, O, I, 0));
  }

  // The first layer's weight gradient as training runs it: dW^T [I, O] (16-column panels, like W^T)
  // = X^T delta, with delta [N, O] dense random: gemm on packed panels of X^T (skipping the samples
  // where 4 pixels are 0), and spmm over the CSR of X's column (pixel) pairs.
  heap.f32(x, N * I).set(pixels);
  const delta = random(N * O, rng);
  const d = put(delta), dw = put(panelFloats(I, O)), pairs = Math.ceil(I / 2);
  const R2 = put(2 * pairs), E2 = put(3 * pairs * N);
  const refDW = new Float32Array(O * I);
  KERNELS.naive.backward(null, refDW, new Float32Array(O), delta, pixels, W, N, I, O);
  const DW = heap.f32(dw, panelFloats(I, O));
  const dwAt = (j: number): number => DW[panelIndex(j % I, Math.floor(j / I), PANEL_Q, PANEL_Q * I)]; // refDW[o * I + i]
  const label = 'MNIST rows, weight grad X^T delta 784x128x800';
  measure(`${label}, gemm`, refDW, dwAt, (pool) => runGemm(pool, panels, panelBytes, dw, PANEL_Q, PANEL_Q * I, x, 1, I, d, O, ROW_MAJOR, I, O, N, 0));
  measure(`${label}, spmm over pixel pairs`, refDW, dwAt, (pool, threads) => {
    pool.run(FN.csr_slots, pairs, grainOf(pairs, threads, 1, 16), 0, 0, x, N, 4 * I, 4, 8, I, O, R2, E2);
    pool.run(FN.spmm, tiles, tileGrain(tiles, threads), 0, 0, dw, PANEL_Q, PANEL_Q * I, R2, I, d, ROW_MAJOR, O, 0);
  });
  rt.setThreads(1);
  for (const at of blocks) heap.release(at);
  return rows;
}

interface EpochRow { kernel: string; workload: string; seconds: number; gflops: number }

/** Effective FLOPs per sample of 784-H-10 (forward, weight gradients, hidden delta), as the issue counts them. */
const effectiveFlops = (H: number): number => 4 * 784 * H + 60 * H;

async function benchEpochs(names: KernelName[], repeat: number): Promise<EpochRow[]> {
  const workloads: Array<{ name: string; H: number; batch: number | 'full' }> = [
    { name: 'W1 784-800-10 batch 128, 1 epoch', H: 800, batch: 128 },
    { name: 'W2 784-300-10 batch 128, 1 epoch', H: 300, batch: 128 },
    { name: 'W3 784-300-10 full batch, 1 step', H: 300, batch: 'full' },
  ];
  const rows: EpochRow[] = [];
  for (const w of workloads) {
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

/** One table row per product (or workload), one column per kernel and thread count. */
function pivot<R extends { kernel: string }>(rows: R[], key: (r: R) => string, value: (r: R) => string): string {
  const columns = [...new Set(rows.map((r) => r.kernel))];
  const keys = [...new Set(rows.map(key))];
  const lines = [`| | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  for (const k of keys) {
    const cells = columns.map((c) => {
      const r = rows.find((x) => x.kernel === c && key(x) === k);
      return r ? value(r) : '-';
    });
    lines.push(`| ${k} | ${cells.join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function markdown(kernels: KernelRow[], epochs: EpochRow[], peakRssMb: number): string {
  let out = `Products, GFLOP/s (2·N·I·O FLOPs; x1/x2 = threads):\n\n${pivot(kernels, (r) => r.case, (r) => r.gflops.toFixed(1))}`;
  if (epochs.length > 0) {
    out += `\nTraining, seconds per epoch (effective GFLOP/s by 4·784·H + 60·H per sample):\n\n`;
    out += pivot(epochs, (r) => r.workload, (r) => `${r.seconds.toFixed(2)} s (${r.gflops.toFixed(0)})`);
  }
  return `${out}\npeak RSS of the bench process: ${peakRssMb.toFixed(0)} MB\n`;
}

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--epoch', 'also time whole training epochs (W1, W2, W3) per kernel')
    .option('--repeat <n>', 'epochs per WebAssembly workload (the median is shown)', '3')
    .option('--kernels <list>', 'the kernels to time, comma-separated (naive, blocked, wasm)', 'naive,blocked,wasm')
    .option('--json', 'print the results as JSON on stdout')
    .option('--markdown', "print the results as the README's tables")
    .parse(process.argv)
    .opts<{ epoch?: boolean; repeat: string; kernels: string; json?: boolean; markdown?: boolean }>();

  const names = opts.kernels.split(',').map((k) => k.trim()) as KernelName[];
  for (const k of names) if (!(k in KERNELS) && k !== 'wasm') throw new Error(`--kernels: unknown kernel ${k} (naive, blocked, wasm)`);
  const wasm = selectKernels('wasm');
  const kernels = [...benchKernels(names), ...(names.includes('wasm') ? benchInMemory() : [])];
  const repeat = Number(opts.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, not ${opts.repeat}`);
  const epochs = opts.epoch ? await benchEpochs(names, repeat) : [];
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ node: process.version, wasm: wasm.name, wasm_fallback: wasm.fallback, kernels, epochs, peak_rss_mb: peakRssMb }, null, 2)}\n`);
    return;
  }
  if (opts.markdown) {
    process.stdout.write(markdown(kernels, epochs, peakRssMb));
    return;
  }
  console.log(`node ${process.version}; wasm kernels: ${wasm.fallback ?? wasm.name}; every kernel verified against naive before timing`);
  console.log(`kernel         ${'product'.padEnd(48)} rel. error        ms   GFLOP/s`);
  for (const r of kernels) {
    console.log(`${r.kernel.padEnd(14)} ${r.case.padEnd(48)} ${r.rel_error.toExponential(1).padStart(10)} ${r.ms.toFixed(3).padStart(9)} ${r.gflops.toFixed(1).padStart(9)}`);
  }
  for (const r of epochs) {
    console.log(`${r.kernel.padEnd(14)} ${r.workload.padEnd(48)} ${r.seconds.toFixed(2).padStart(7)} s ${r.gflops.toFixed(1).padStart(7)} GFLOP/s`);
  }
  console.log(`peak RSS ${peakRssMb.toFixed(0)} MB`);
}

await main();
