// A training pass whose every buffer lives in the WebAssembly memory: the
// working copy of the parameters, their gradients and the optimizer's
// velocity, the batch, and every Z, A, dA, delta. Nothing is copied per
// batch, and the whole step (products, sigmoid, bias sums, SGD update) runs
// in the module, on every thread.
//
// Layout: the parameters go in the order of Mlp (W_0 | b_0 | W_1 | ...) but
// each W_l is stored transposed, W_l^T [I, O]. Then both products of a layer
// read their operands without a transpose:
//
//   forward   Z_l    = A_{l-1} W_l^T + b_l          B = W_l^T [I, O]
//   backward  dW_l^T = A_{l-1}^T delta_l            C = dW_l^T [I, O] (the gradient in the same layout)
//             dA_{l-1} = delta_l W_l                B = W_l [O, I], transposed once per batch (l >= 1 only)
//
// W_0^T, read by every batch's forward product and never transposed, is kept
// in 16-column panels (gemm-wat.ts: [I, 16] per 16 outputs, the last padded
// with zeros), so a tile's columns are consecutive bytes; the other W_l^T are
// row-major. A narrow layer (l >= 1, fewer than 16 outputs: the 10 classes)
// keeps W_l [O, I] as Mlp does: its forward product is a dot product per
// output (dot-wat.ts), its gradient dW_l = delta_l^T A_{l-1} and
// dA_{l-1} = delta_l W_l read W_l without a transpose. The velocity and the
// gradients share the layout; the padding stays zero (no product writes it,
// and SGD keeps zeros zero).
//
// The first layer's input is MNIST pixels, 81% zero: its forward product runs
// on compressed pairs of rows of X (sparse-wat.ts), its weight gradient
// X^T delta on compressed pairs of X's columns (pixel pairs). For large
// (full) batches the row CSR is compact and built on one thread, and the
// weight gradient runs on gemm's packed panels, which skip the samples where
// 4 neighbouring pixels are all zero.
//
// The canonical copy (model.params, optimizer.velocity, PyTorch layout) is
// brought up to date by store() at every point where someone reads it (end of
// epoch, checkpoint, validation), and read back by load() before training.
import { maxNonZeros, PIXEL } from '../data/batches.js';
import type { Dataset } from '../data/mnist.js';
import type { ActivationKernels } from '../kernels/activations.js';
import type { Vec } from '../kernels/matmul.js';
import { panelFloats, panelIndex, PANEL_Q, ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import { FN, grainOf, runGemm, tileGrain } from '../kernels/wasm/pool.js';
import { f32bits, type Heap, type WasmRuntime } from '../kernels/wasm/runtime.js';
import { SPMM_TILE_Q } from '../kernels/wasm/sparse-wat.js';
import type { Mlp, TrainPass } from './mlp.js';

/** Row pairs above which the sparse forward product is split by rows instead of columns. */
const SPMM_ROW_SPLIT = 512;
/**
 * Batches up to this size get a CSR slot per pair (csr_slots, built on every
 * thread; 12 bytes per pixel per row) and the first layer's weight gradient
 * through the sparse product; larger ones a compact CSR and gemm.
 */
const SLOT_ROWS = 1024;
/** Floats of a gemm panel entry per k (gemm-wat.ts: 4 values + an offset). */
const PANEL = 5;

/** A pass nobody disposed gives its memory back when it is collected. */
const finalizer = new FinalizationRegistry<{ heap: Heap; blocks: number[] }>(({ heap, blocks }) => {
  for (const ptr of blocks) heap.release(ptr);
});

export class WasmPass implements TrainPass {
  readonly model: Mlp;
  readonly capacity: number;
  /** The batch input [capacity, I_0]: the batcher writes here. */
  readonly X: Float32Array;
  readonly params: Float32Array; // working parameters (W_l^T layouts above)
  readonly grads: Float32Array;
  readonly velocity: Float32Array;
  readonly W: Float32Array[]; // W_l^T [I, O]: panels for l = 0, else row-major; a narrow layer's W_l [O, I]
  readonly b: Float32Array[];
  readonly dW: Float32Array[]; // dE/dW_l, in W_l's layout
  readonly db: Float32Array[];
  readonly Z: Float32Array[];
  readonly A: Float32Array[];
  readonly dA: Float32Array[];
  readonly delta: Float32Array[];

  private readonly rt: WasmRuntime;
  /** Per layer: W_l kept [O, I] (a narrow layer), or W_l^T with floats between rows and between 16-column panels (gemm-wat.ts). */
  private readonly narrow: boolean[];
  private readonly ldW: number[];
  private readonly psW: number[];
  /** Per layer, the offset of W_l^T in params (b_l follows it). */
  private readonly wAt: number[] = [];
  private readonly blocks: number[] = [];
  private readonly at = new Map<Float32Array, number>(); // byte address of each buffer above
  private readonly wRowMajor: number; // W_l [O, I] for dA_{l-1}, l >= 1 (largest layer)
  private readonly rowPtr: number; // CSR of X's row pairs (sparse-wat.ts)
  private readonly rowEntries: number;
  private readonly slots: boolean; // capacity <= SLOT_ROWS
  /** For dW_0 (with slots, else 0): the CSR of X^T's row pairs (pixel pairs). */
  private readonly colPtr: number;
  private readonly colEntries: number;
  private readonly panels: number; // gemm's packed-panel scratch, panelBytes per thread
  private readonly panelBytes: number;
  private readonly panelThreads: number; // threads the panel scratch is for (the runtime's at construction)
  /** The training images as bytes, the pixel scale table and a batch's sample indices (load_batch). */
  private readonly images: number;
  private readonly table: number;
  private readonly batchOrder: Int32Array;
  private readonly batchOrderAt: number;
  private readonly sigmoidHidden: boolean;
  private readonly sigmoidOutput: boolean;
  private n = 0;

  /**
   * Buffers for batches of up to `capacity` rows. With `data`, its images are
   * copied into the memory once and loadBatch builds batches from them.
   */
  constructor(model: Mlp, capacity: number, rt: WasmRuntime, data: Dataset | null = null) {
    if (model.Float !== Float32Array) throw new TypeError('the WebAssembly pass trains float32 models only');
    this.model = model;
    this.capacity = capacity;
    this.rt = rt;
    finalizer.register(this, { heap: rt.heap, blocks: this.blocks }, this);
    const I0 = model.inputs;
    const panelled = model.slots.map((_, l) => l === 0);
    this.narrow = model.slots.map((s, l) => l > 0 && s.O < PANEL_Q);
    this.ldW = model.slots.map((s, l) => (panelled[l] ? PANEL_Q : s.O));
    this.psW = model.slots.map((s, l) => (panelled[l] ? PANEL_Q * s.I : ROW_MAJOR));
    const wFloats = model.slots.map((s, l) => (panelled[l] ? panelFloats(s.I, s.O) : s.I * s.O));
    const wAt = this.wAt;
    let P = 0;
    for (const [l, s] of model.slots.entries()) {
      wAt.push(P);
      P += wFloats[l] + s.O;
    }
    const f32 = (floats: number): Float32Array => {
      const ptr = this.alloc(floats * 4);
      const view = rt.heap.f32(ptr, floats);
      this.at.set(view, ptr);
      return view;
    };
    const sub = (buf: Float32Array, offset: number, floats: number): Float32Array => {
      const view = buf.subarray(offset, offset + floats);
      this.at.set(view, this.addr(buf) + offset * 4);
      return view;
    };
    this.params = f32(P);
    this.grads = f32(P).fill(0); // the panel padding is never written
    this.velocity = f32(P);
    this.W = model.slots.map((_, l) => sub(this.params, wAt[l], wFloats[l]));
    this.b = model.slots.map((s, l) => sub(this.params, wAt[l] + wFloats[l], s.O));
    this.dW = model.slots.map((_, l) => sub(this.grads, wAt[l], wFloats[l]));
    this.db = model.slots.map((s, l) => sub(this.grads, wAt[l] + wFloats[l], s.O));
    this.X = f32(capacity * I0);
    this.Z = model.slots.map((s) => f32(capacity * s.O));
    this.A = model.slots.map((s) => f32(capacity * s.O));
    this.dA = model.slots.map((s) => f32(capacity * s.O));
    this.delta = model.slots.map((s) => f32(capacity * s.O));
    this.wRowMajor = this.alloc(4 * Math.max(1, ...model.slots.map((s, l) => (l > 0 && !this.narrow[l] ? s.I * s.O : 0))));
    // The row CSR: a slot of I_0 entries per row pair, or, compact, at most capacity * I_0
    // entries, bounded by the data for large (full) batches.
    this.slots = capacity <= SLOT_ROWS;
    const nnz = this.slots ? 2 * Math.ceil(capacity / 2) * I0 : data && capacity * I0 > 1 << 22 ? maxNonZeros(data, capacity) : capacity * I0;
    this.rowPtr = this.alloc(8 * Math.ceil(capacity / 2));
    this.rowEntries = this.alloc(12 * nnz); // an entry per k where either row of a pair is non-zero
    this.colPtr = this.slots ? this.alloc(8 * Math.ceil(I0 / 2)) : 0;
    this.colEntries = this.slots ? this.alloc(12 * Math.ceil(I0 / 2) * capacity) : 0;
    const widest = Math.max(capacity, ...model.spec.layers);
    this.panelBytes = 4 * PANEL * widest;
    this.panelThreads = rt.threads;
    this.panels = this.alloc(this.panelThreads * this.panelBytes);
    this.images = data ? this.alloc(data.images.length) : 0;
    if (data) new Uint8Array(rt.memory.buffer, this.images, data.images.length).set(data.images);
    this.table = this.alloc(4 * 256);
    rt.heap.f32(this.table, 256).set(PIXEL);
    this.batchOrderAt = this.alloc(4 * capacity);
    this.batchOrder = rt.heap.i32(this.batchOrderAt, capacity);
    this.sigmoidHidden = model.spec.hidden === 'sigmoid';
    this.sigmoidOutput = model.spec.output === 'sigmoid';
  }

  /** Give the memory back; the pass is unusable afterwards. */
  dispose(): void {
    finalizer.unregister(this);
    for (const ptr of this.blocks) this.rt.heap.release(ptr);
    this.blocks.length = 0;
  }

  get rows(): number {
    return this.n;
  }
  get Y(): Float32Array {
    return this.A[this.model.L - 1];
  }
  get logits(): Float32Array {
    return this.Z[this.model.L - 1];
  }
  get dY(): Float32Array {
    return this.dA[this.model.L - 1];
  }
  get deltaY(): Float32Array {
    return this.delta[this.model.L - 1];
  }

  /** Working parameters and velocity <- the model's and the optimizer's (PyTorch layout). */
  load(params: Vec, velocity: Float32Array): void {
    this.params.fill(0);
    this.velocity.fill(0);
    this.convert(params, this.params, true);
    this.convert(velocity, this.velocity, true);
  }

  /** Index of W_l[o, i] in W_l^T's working layout (in W[l], dW[l]). */
  wIndex(l: number, o: number, i: number): number {
    if (this.narrow[l]) return o * this.model.slots[l].I + i;
    return panelIndex(i, o, this.ldW[l], this.psW[l]);
  }

  /** The model's parameters and the optimizer's velocity <- the working ones. */
  store(params: Vec, velocity: Float32Array): void {
    this.convert(this.params, params, false);
    this.convert(this.velocity, velocity, false);
  }

  /** X <- the samples order[start, start + rows) of the data given at construction, scaled to [0, 1] (Batcher's fill). */
  loadBatch(order: Uint32Array, start: number, rows: number): void {
    if (!this.images) throw new Error('WasmPass.loadBatch needs the data at construction');
    if (rows > this.capacity) throw new RangeError(`batch of ${rows} rows exceeds pass capacity ${this.capacity}`);
    for (let r = 0; r < rows; r++) this.batchOrder[r] = order[start + r];
    this.rt.pool().run(FN.load_batch, rows, grainOf(rows, this.rt.threads, 1, 16), 0, 0, this.addr(this.X), this.images, this.batchOrderAt, this.model.inputs, this.table);
  }

  /** Z_l = A_{l-1} W_l^T + b_l, A_l = f_l(Z_l) for the first n rows of this.X. */
  forward(X: Vec, n: number): Float32Array {
    if (X !== this.X) throw new Error('WasmPass.forward reads its own input buffer: load the batch into pass.X');
    if (n > this.capacity) throw new RangeError(`batch of ${n} rows exceeds pass capacity ${this.capacity}`);
    this.n = n;
    const m = this.model;
    const pool = this.rt.pool();
    const threads = this.rt.threads;
    for (let l = 0; l < m.L; l++) {
      const { I, O } = m.slots[l];
      const Z = this.addr(this.Z[l]);
      pool.run(FN.bias_rows, n, n, 0, 0, Z, this.addr(this.b[l]), O);
      if (l === 0) {
        const pairs = Math.ceil(n / 2);
        if (this.slots) {
          pool.run(FN.csr_slots, pairs, grainOf(pairs, threads, 1, 8), 0, 0, this.addr(this.X), I, 4, 4 * I, 8 * I, n, this.ldW[0], this.rowPtr, this.rowEntries);
        } else {
          this.rt.exports.csr_pairs(this.addr(this.X), n, I, this.ldW[0], this.rowPtr, this.rowEntries);
        }
        if (pairs > SPMM_ROW_SPLIT) {
          // a large (full) batch: blocks of row pairs, so each block's CSR stays in cache across the columns
          pool.run(FN.spmm_rows, pairs, grainOf(pairs, threads, 1, SPMM_ROW_SPLIT / 8), 0, 0, Z, O, ROW_MAJOR, this.rowPtr, n, this.addr(this.W[0]), this.psW[0], O, 1);
        } else {
          const tiles = Math.ceil(O / SPMM_TILE_Q);
          pool.run(FN.spmm, tiles, tileGrain(tiles, threads), 0, 0, Z, O, ROW_MAJOR, this.rowPtr, n, this.addr(this.W[0]), this.psW[0], O, 1);
        }
      } else if (this.narrow[l]) {
        pool.run(FN.dot_rows, n, grainOf(n, threads, 2, 32), 0, 0, Z, this.addr(this.A[l - 1]), this.addr(this.W[l]), I, O);
      } else {
        this.gemm(Z, O, ROW_MAJOR, this.addr(this.A[l - 1]), I, 1, this.addr(this.W[l]), this.ldW[l], this.psW[l], n, O, I, 1);
      }
      this.activate(l, n * O);
    }
    return this.Y;
  }

  /** delta_{L-1} = f'(Z_{L-1}) ⊙ dY. */
  backwardOutput(): void {
    this.activateBackward(this.model.L - 1);
  }

  /** From deltaY down: every dW_l^T, db_l (overwritten) and delta_l for l < L-1. */
  backwardLayers(X: Vec): void {
    if (X !== this.X) throw new Error('WasmPass.backwardLayers reads its own input buffer');
    const m = this.model;
    const n = this.n;
    const pool = this.rt.pool();
    for (let l = m.L - 1; l >= 0; l--) {
      const { I, O } = m.slots[l];
      if (l < m.L - 1) this.activateBackward(l);
      const delta = this.addr(this.delta[l]);
      const dWT = this.addr(this.dW[l]);
      const input = l === 0 ? this.addr(this.X) : this.addr(this.A[l - 1]);
      if (this.narrow[l]) {
        // dW_l [O, I] = delta_l^T A_{l-1};  dA_{l-1} [n, I] = delta_l [n, O] W_l [O, I]
        this.gemm(dWT, I, ROW_MAJOR, delta, 1, O, input, I, ROW_MAJOR, O, I, n, 0);
        this.gemm(this.addr(this.dA[l - 1]), I, ROW_MAJOR, delta, O, 1, this.addr(this.W[l]), I, ROW_MAJOR, n, I, O, 0);
      } else if (l === 0 && this.slots) {
        // dW_0^T [I, O] = X^T delta_0 by the sparse product over the CSR of X^T's row pairs
        // (pixel pairs): the samples where both pixels are 0 are skipped
        const pairs = Math.ceil(I / 2);
        pool.run(FN.csr_slots, pairs, grainOf(pairs, this.rt.threads, 1, 16), 0, 0, this.addr(this.X), n, 4 * I, 4, 8, I, O, this.colPtr, this.colEntries);
        const tiles = Math.ceil(O / SPMM_TILE_Q);
        pool.run(FN.spmm, tiles, tileGrain(tiles, this.rt.threads), 0, 0, dWT, this.ldW[0], this.psW[0], this.colPtr, I, delta, ROW_MAJOR, O, 0);
      } else {
        // dW_l^T [I, O] = A_{l-1}^T delta_l (A_{-1} = X: the packed panels skip the samples where 4 pixels are all 0)
        this.gemm(dWT, this.ldW[l], this.psW[l], input, 1, I, delta, O, ROW_MAJOR, I, O, n, 0);
        if (l > 0) {
          // dA_{l-1} [n, I] = delta_l [n, O] W_l [O, I], W_l from the row-major W_l^T
          this.rt.exports.transpose(this.wRowMajor, this.addr(this.W[l]), I, O);
          this.gemm(this.addr(this.dA[l - 1]), I, ROW_MAJOR, delta, O, 1, this.wRowMajor, I, ROW_MAJOR, n, I, O, 0);
        }
      }
      pool.run(FN.col_sums, O, O, 0, 0, this.addr(this.db[l]), delta, n, O);
    }
  }

  /** p -= lr v, v = mu v + (1/d) g over all parameters (src/train/optimizer.ts). */
  step(lr: number, d: number, momentum: number): void {
    const P = this.params.length;
    this.rt.pool().run(
      FN.sgd, P, grainOf(P, this.rt.threads, 1024), 0, 0,
      this.addr(this.params), this.addr(this.velocity), this.addr(this.grads),
      momentum === 0 ? 0 : f32bits(momentum), f32bits(1 / d), f32bits(lr),
    );
  }

  /** C (+)= A B on every thread (gemm-wat.ts's arguments; pointers in bytes). */
  private gemm(
    C: number, ldc: number, cps: number, A: number, ars: number, aks: number,
    B: number, ldb: number, bps: number, P: number, Q: number, K: number, acc: number,
  ): void {
    if (this.rt.threads > this.panelThreads) {
      throw new Error(`WasmPass was made for ${this.panelThreads} threads, the kernels now run ${this.rt.threads}: make the pass after setKernelThreads`);
    }
    runGemm(this.rt.pool(), this.panels, this.panelBytes, C, ldc, cps, A, ars, aks, B, ldb, bps, P, Q, K, acc);
  }

  private activation(l: number): ActivationKernels {
    return this.model.activation(l);
  }

  private isSigmoid(l: number): boolean {
    return l === this.model.L - 1 ? this.sigmoidOutput : this.sigmoidHidden;
  }

  /** A_l = f_l(Z_l) over `len` values: sigmoid in the module, the others in TypeScript on the same memory. */
  private activate(l: number, len: number): void {
    if (this.isSigmoid(l)) {
      this.rt.pool().run(FN.sigmoid, len, grainOf(len, this.rt.threads, 16, 4096), 0, 0, this.addr(this.A[l]), this.addr(this.Z[l]));
    } else {
      this.activation(l).forward(this.A[l], this.Z[l], this.n, this.model.slots[l].O);
    }
  }

  private activateBackward(l: number): void {
    const len = this.n * this.model.slots[l].O;
    if (this.isSigmoid(l)) {
      this.rt.pool().run(
        FN.sigmoid_backward, len, grainOf(len, this.rt.threads, 16, 4096), 0, 0,
        this.addr(this.delta[l]), this.addr(this.dA[l]), this.addr(this.A[l]),
      );
    } else {
      this.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.n, this.model.slots[l].O);
    }
  }

  /** Copy between Mlp's layout and the working one: W_l [O, I] <-> W_l^T when `toWorking`, back otherwise. */
  private convert(src: Vec, dst: Vec, toWorking: boolean): void {
    for (const [l, s] of this.model.slots.entries()) {
      const { I, O, wOffset, bOffset } = s;
      const w = this.wAt[l];
      const b = this.wAt[l] + this.W[l].length;
      for (let o = 0; o < O; o++) {
        for (let i = 0; i < I; i++) {
          if (toWorking) dst[w + this.wIndex(l, o, i)] = src[wOffset + o * I + i];
          else dst[wOffset + o * I + i] = src[w + this.wIndex(l, o, i)];
        }
      }
      for (let o = 0; o < O; o++) dst[(toWorking ? b : bOffset) + o] = src[(toWorking ? bOffset : b) + o];
    }
  }

  private alloc(bytes: number): number {
    const ptr = this.rt.heap.alloc(bytes);
    this.blocks.push(ptr);
    return ptr;
  }

  private addr(view: Float32Array): number {
    const a = this.at.get(view);
    if (a === undefined) throw new Error('WasmPass: not one of its buffers');
    return a;
  }
}
