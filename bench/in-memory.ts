// The in-memory product rows: the products as training runs them, on buffers
// in the WebAssembly memory (no copies), each checked against the naive kernel
// first. sgemm 128x784x800 on dense random data with B = W^T row-major and in
// the pass's 16-column panels, and the first layer's forward product and
// weight gradient on real MNIST rows, dense (gemm, whose panels skip all-zero
// groups of 4) and sparse (spmm over the CSR of the row pairs, or of the pixel
// pairs). GFLOP/s count the dense 2·N·I·O.
// N = 128 batch rows, I = 784 inputs, O = 800 outputs.
import { availableParallelism } from 'node:os';
import { defaultConfig, type DataPreset } from '../src/config/schema.js';
import { loadRunData } from '../src/data/load.js';
import { KERNELS } from '../src/kernels/matmul.js';
import { moduleCalls, type ModuleCalls } from '../src/kernels/wasm/calls.js';
import { runGemm, type PanelScratch } from '../src/kernels/wasm/gemm-job.js';
import { PANEL_Q, panelFloats, panelIndex, ROW_MAJOR } from '../src/kernels/wasm/gemm-wat.js';
import { grainOf, tileGrain } from '../src/kernels/wasm/pool.js';
import { wasmRuntime, type WasmRuntime } from '../src/kernels/wasm/runtime.js';
import { SPMM_TILE_Q } from '../src/kernels/wasm/sparse-wat.js';
import { Rng } from '../src/rng.js';
import { random, time, type KernelRow } from './timing.js';

const N = 128, I = 784, O = 800;
const FLOP = 2 * N * I * O;
const TILES = Math.ceil(O / SPMM_TILE_Q);

/** The host operands and the module buffers (byte addresses) the forward and weight-gradient cases share. */
interface InMemory {
  rt: WasmRuntime;
  k: ModuleCalls;
  rng: Rng;
  dense: Float32Array; // X [N, I], random
  pixels: Float32Array; // X [N, I], the first 128 training images / 255
  rowsName: string; // whose images: 'MNIST', 'fashion-mnist' (bench --data)
  W: Float32Array; // [O, I]
  x: number; // X [N, I]
  bRows: number; // W^T [I, O], row-major
  bPanels: number; // W^T [I, O], in 16-column panels
  c: number; // C [N, O]
  R: number; // CSR of X's row pairs
  E: number;
  panels: PanelScratch;
  /** Copy `a` (or reserve `a` floats) into the module's memory; the block's address. */
  put: (a: Float32Array | number) => number;
  blocks: number[];
  rows: KernelRow[];
}

function setup(rt: WasmRuntime, preset: DataPreset): InMemory {
  const rng = new Rng(8, 0);
  const cfg = defaultConfig();
  cfg.data.preset = preset;
  const mnist = loadRunData(cfg, 'bench', { train: true, test: false }).train!;
  const dense = random(N * I, rng);
  const pixels = new Float32Array(N * I);
  for (let i = 0; i < N * I; i++) pixels[i] = mnist.images[i] / 255; // the first 128 training images
  const W = random(O * I, rng);
  // B = W^T [I, O], row-major and in the pass's 16-column panels (gemm-wat.ts)
  const WT = new Float32Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) WT[i * O + o] = W[o * I + i];
  const WP = new Float32Array(panelFloats(I, O));
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) WP[panelIndex(i, o, PANEL_Q, PANEL_Q * I)] = W[o * I + i];

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
  const panels = { at: put((panelBytes / 4) * 64), bytes: panelBytes };
  return { rt, k: moduleCalls(rt), rng, dense, pixels, rowsName: preset === 'mnist' ? 'MNIST' : preset, W, x, bRows, bPanels, c, R, E, panels, put, blocks, rows: [] };
}

/** On 1, 2, .. threads: run once, check against `ref` (got(i) is the i-th value in ref's layout), time, add a row. */
function measure(m: InMemory, label: string, ref: Float32Array, got: (i: number) => number, run: (threads: number) => void): void {
  const { rt } = m;
  for (let threads = 1; threads <= availableParallelism(); threads++) {
    rt.setThreads(threads);
    run(threads);
    let worst = 0, scale = 0;
    for (let i = 0; i < ref.length; i++) {
      scale = Math.max(scale, Math.abs(ref[i]));
      worst = Math.max(worst, Math.abs(ref[i] - got(i)));
    }
    if (!(worst <= 1e-5 * scale)) throw new Error(`${label} disagrees with naive: ${worst / scale}`);
    const ms = time(() => run(threads));
    m.rows.push({ kernel: `wasm-${rt.variant} x${threads}`, case: `${label} (in memory)`, rel_error: worst / scale, ms, gflops: FLOP / (ms / 1000) / 1e9 });
  }
}

/** The forward product C [N, O] = X W^T: dense random and MNIST rows, gemm and spmm, B row-major or in panels. */
function forwardCases(m: InMemory): void {
  const { k, x, c, R, E, panels } = m;
  const C = m.rt.heap.f32(c, N * O);
  const zeroBias = new Float32Array(O);
  const cases = [
    ['sgemm dense random, B row-major', m.dense, 'gemm', false],
    ['sgemm dense random, B in 16-column panels', m.dense, 'gemm', true],
    [`${m.rowsName} rows, gemm, B in panels`, m.pixels, 'gemm', true],
    [`${m.rowsName} rows, spmm, B in panels`, m.pixels, 'spmm', true],
  ] as const;
  for (const [label, X, kernel, panelled] of cases) {
    m.rt.heap.f32(x, N * I).set(X);
    const b = panelled ? m.bPanels : m.bRows;
    const [ldb, bps] = panelled ? [PANEL_Q, PANEL_Q * I] : [O, ROW_MAJOR];
    const ref = new Float32Array(N * O);
    KERNELS.naive.forward(ref, X, m.W, zeroBias, N, I, O);
    measure(m, `${label} 128x784x800`, ref, (i) => C[i], kernel === 'spmm'
      ? (threads) => {
          k.csr_pairs({ X: x, N, K: I, ldb, R, E });
          k.spmm(TILES, tileGrain(TILES, threads), { C: c, ldc: O, cps: ROW_MAJOR, R, P: N, B: b, bps, Q: O, acc: 0 });
        }
      : () => runGemm(k, panels, { C: c, ldc: O, cps: ROW_MAJOR, A: x, ars: I, aks: 1, B: b, ldb, bps, P: N, Q: O, K: I, acc: 0 }));
  }
}

/**
 * The first layer's weight gradient as training runs it: dW^T [I, O] (16-column panels, like W^T)
 * = X^T delta, with delta [N, O] dense random: gemm on packed panels of X^T (skipping the samples
 * where 4 pixels are 0), and spmm over the CSR of X's column (pixel) pairs.
 */
function weightGradCases(m: InMemory): void {
  const { k, x, put, panels, pixels } = m;
  m.rt.heap.f32(x, N * I).set(pixels);
  const delta = random(N * O, m.rng);
  const d = put(delta), dw = put(panelFloats(I, O)), pairs = Math.ceil(I / 2);
  const R2 = put(2 * pairs), E2 = put(3 * pairs * N);
  const refDW = new Float32Array(O * I);
  KERNELS.naive.backward(null, refDW, new Float32Array(O), delta, pixels, m.W, N, I, O);
  const DW = m.rt.heap.f32(dw, panelFloats(I, O));
  const dwAt = (j: number): number => DW[panelIndex(j % I, Math.floor(j / I), PANEL_Q, PANEL_Q * I)]; // refDW[o * I + i]
  const label = `${m.rowsName} rows, weight grad X^T delta 784x128x800`;
  measure(m, `${label}, gemm`, refDW, dwAt, () =>
    runGemm(k, panels, { C: dw, ldc: PANEL_Q, cps: PANEL_Q * I, A: x, ars: 1, aks: I, B: d, ldb: O, bps: ROW_MAJOR, P: I, Q: O, K: N, acc: 0 }));
  measure(m, `${label}, spmm over pixel pairs`, refDW, dwAt, (threads) => {
    k.csr_slots(pairs, grainOf(pairs, threads, 1, 16), { X: x, count: N, step: 4 * I, second: 4, pair: 8, total: I, ldb: O, R: R2, E: E2 });
    k.spmm(TILES, tileGrain(TILES, threads), { C: dw, ldc: PANEL_Q, cps: PANEL_Q * I, R: R2, P: I, B: d, bps: ROW_MAJOR, Q: O, acc: 0 });
  });
}

/** The products on buffers in the WebAssembly memory, each checked against the naive kernel first; none without it. */
export function benchInMemory(preset: DataPreset = 'mnist'): KernelRow[] {
  const rt = wasmRuntime().runtime;
  if (!rt) return [];
  const m = setup(rt, preset);
  forwardCases(m);
  weightGradCases(m);
  rt.setThreads(1);
  for (const at of m.blocks) rt.heap.release(at);
  return m.rows;
}
