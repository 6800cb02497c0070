// npm run bench [-- --epoch [--workloads W1,W2,W3,W4,W4d] [--data fashion-mnist] [--no-products]] [--repeat n] [--kernels naive,blocked,wasm] [--json | --markdown]
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
//    W2 = the same for 784-300-10, W3 = one full-batch step of 784-300-10,
//    W4 = one epoch of 784-1024-1024-10 (relu, he_uniform, softmax and
//    cross-entropy, lr 0.1, batch 128), W4d = W4 with dropout 0.2/0.5 and
//    max-norm 3.5 (the record rows' regularization) (WebAssembly: the median of --repeat
//    epochs, default 3); seconds and effective GFLOP/s by the products' count
//    per sample, 4·in·out for the first layer and 6·in·out for each other
//    (4·784·H + 60·H for 784-H-10; 9,564,160 for W4; epochs.ts).
//
// The files: bench.ts (this: the command line and the output tables),
// kernels.ts (the copying kernels' rows), in-memory.ts (the in-memory product
// rows), epochs.ts (the epoch rows), timing.ts (the timer and shared helpers).
//
// The machine is shared: compare variants within one run, and read medians.
import { Command, Option } from 'commander';
import { DATA_PRESETS, type DataPreset } from '../src/config/schema.js';
import { KERNELS, selectKernels, type KernelName } from '../src/kernels/matmul.js';
import { benchEpochs, WORKLOAD_IDS, type EpochRow } from './epochs.js';
import { benchInMemory } from './in-memory.js';
import { benchKernels } from './kernels.js';
import type { KernelRow } from './timing.js';

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
  let out = kernels.length > 0 ? `Products, GFLOP/s (2·N·I·O FLOPs; x1/x2 = threads):\n\n${pivot(kernels, (r) => r.case, (r) => r.gflops.toFixed(1))}` : '';
  if (epochs.length > 0) {
    out += `\nTraining, seconds per epoch (effective GFLOP/s by 4·784·H + 60·H per sample; W4 4·784·1024 + 6·1024·1024 + 6·1024·10):\n\n`;
    out += pivot(epochs, (r) => r.workload, (r) => `${r.seconds.toFixed(2)} s (${r.gflops.toFixed(0)})`);
  }
  return `${out}\npeak RSS of the bench process: ${peakRssMb.toFixed(0)} MB\n`;
}

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--epoch', 'also time whole training epochs (W1, W2, W3, W4, W4d) per kernel')
    .option('--workloads <list>', `with --epoch, only these workloads, comma-separated (${WORKLOAD_IDS.join(', ')})`, WORKLOAD_IDS.join(','))
    .option('--no-products', 'skip the product rows (with --epoch: time only the workloads)')
    .addOption(new Option('--data <preset>', 'the images of the in-memory rows and the --epoch workloads: a data.preset (fashion-mnist: dense pixels)').choices([...DATA_PRESETS]).default('mnist'))
    .option('--repeat <n>', 'epochs per WebAssembly workload (the median is shown)', '3')
    .option('--kernels <list>', 'the kernels to time, comma-separated (naive, blocked, wasm)', 'naive,blocked,wasm')
    .option('--json', 'print the results as JSON on stdout')
    .option('--markdown', "print the results as the README's tables")
    .parse(process.argv)
    .opts<{ epoch?: boolean; workloads: string; data: DataPreset; products: boolean; repeat: string; kernels: string; json?: boolean; markdown?: boolean }>();

  const names = opts.kernels.split(',').map((k) => k.trim()) as KernelName[];
  for (const k of names) if (!(k in KERNELS) && k !== 'wasm') throw new Error(`--kernels: unknown kernel ${k} (naive, blocked, wasm)`);
  const repeat = Number(opts.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, not ${opts.repeat}`);
  const workloads = opts.workloads.split(',').map((w) => w.trim());
  for (const w of workloads) if (!WORKLOAD_IDS.includes(w)) throw new Error(`--workloads: unknown workload ${w} (${WORKLOAD_IDS.join(', ')})`);
  const wasm = selectKernels('wasm');
  const kernels = opts.products ? [...benchKernels(names), ...(names.includes('wasm') ? benchInMemory(opts.data) : [])] : [];
  const epochs = opts.epoch ? await benchEpochs(names, repeat, workloads, opts.data) : [];
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
