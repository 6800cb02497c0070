// The fast pass: every buffer of a training step lives in the WebAssembly
// memory (the working copy of the parameters, their gradients and the
// optimizer's state, the batch, and every Z, A, dA, delta), nothing is copied
// per batch, and the whole step (products, sigmoid, softplus or relu, bias sums,
// the update) runs in the module, on every thread; the other activations
// (tanh, maxout, softmax) run in TypeScript on the same memory. The
// equations are those of pass.ts, the shapes mlp.ts's (a maxout layer's Z
// and delta are [n, H k], its A and dA [n, H]); the parameter layout (W_l^T,
// panels, narrow layers) is wasm-layout.ts's.
//
// The first layer's input is MNIST pixels, 81% zero: its forward product runs
// on compressed pairs of rows of X, its weight gradient X^T delta on
// compressed pairs of X's columns (pixel pairs): wasm-sparse-layer.ts (data
// over 90% non-zero take gemm instead); so do
// the layers after relu units, whose inputs are half zeros or more. The
// backward of the dense layers l >= 1 is wasm-dense.ts's.
// Dropout's masks and max-norm run in the module too (wasm-regularization.ts).
//
// The canonical copy (model.params and optimizer state, PyTorch layout) is
// brought up to date by store() wherever someone reads it (end of epoch,
// checkpoint, validation), and read back by load() before training.
import type { Vec } from '../kernels/matmul.js';
import { moduleCalls, type ModuleCalls } from '../kernels/wasm/calls.js';
import { runGemm, type GemmOperands, type PanelScratch } from '../kernels/wasm/gemm-job.js';
import { ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import { grainOf } from '../kernels/wasm/pool.js';
import type { WasmRuntime } from '../kernels/wasm/runtime.js';
import type { Dropout, PassRegularization } from './dropout.js';
import type { Mlp } from './mlp.js';
import { newOptimizerScalars, OPTIMIZER_STATE, type OptimizerScalars, type OptimizerSettings, type OptimizerState, type StepInputs } from './optimizer.js';
import type { TrainPass } from './pass.js';
import { denseBackwardFloats, l2Blocks, scratchBytes, sparseHidden } from './wasm-buffers.js';
import { denseBackward, type DenseBuffers } from './wasm-dense.js';
import { ModuleL2 } from './wasm-l2.js';
import { SparseLayer, sparseInput } from './wasm-sparse-layer.js';
import { WasmLayout } from './wasm-layout.js';
import { moduleDropout, moduleMaxNorm } from './wasm-regularization.js';
import { moduleStep } from './wasm-step.js';

/** A pass nobody disposed gives its memory back when it is collected. */
const finalizer = new FinalizationRegistry<{ rt: WasmRuntime; blocks: number[] }>(({ rt, blocks }) => {
  for (const ptr of blocks) rt.heap.release(ptr);
});

/** The activations the module runs (elementwise-wat.ts); the others run in TypeScript. */
type ModuleActivation = 'sigmoid' | 'softplus' | 'relu';
const inModule = (f: string): f is ModuleActivation => f === 'sigmoid' || f === 'softplus' || f === 'relu';

export interface WasmPassOptions {
  capacity: number;
  optimizer: OptimizerSettings;
  regularization?: PassRegularization; // dropout and max-norm; none if absent
  inputDensity?: number; // fraction of non-zero inputs the first layer sees (after input dropout); absent = 0, sparse
}

export class WasmPass implements TrainPass {
  readonly model: Mlp;
  readonly capacity: number;
  readonly layout: WasmLayout;
  readonly X: Float32Array; // [capacity, I_0]
  readonly params: Float32Array; // the working parameters, in the layout's order
  readonly grads: Float32Array;
  readonly state: Readonly<Record<string, Float32Array>>; // the optimizer's, in the same layout
  readonly scalars: OptimizerScalars; // the optimizer's state scalars (no layout: the one copy)
  readonly W: Float32Array[]; // W_l^T (panels for l = 0), or a narrow layer's W_l [O, I]
  readonly b: Float32Array[];
  readonly dW: Float32Array[]; // dE/dW_l, in W_l's layout
  readonly db: Float32Array[];
  readonly Z: Float32Array[];
  readonly A: Float32Array[];
  readonly dA: Float32Array[];
  readonly delta: Float32Array[];

  private readonly rt: WasmRuntime;
  private readonly k: ModuleCalls;
  private readonly optimizer: OptimizerSettings;
  private readonly blocks: number[] = [];
  private readonly dense: DenseBuffers; // a dense layer's backward buffers (wasm-dense.ts), 0 if none
  private readonly gemmOnThreads = (g: GemmOperands): void => this.gemm(g);
  private readonly first: SparseLayer; // the first layer's sparse products
  private readonly sparse: Array<SparseLayer | null>; // per layer l >= 1: products over the zeros of relu (wasm-buffers.ts sparseHidden)
  private readonly panels: PanelScratch; // gemm's packed panels (and the sparse products' CSR blocks), one per thread
  private readonly panelThreads: number; // threads the panel scratch is for (the runtime's at construction)
  private readonly inModule: Array<ModuleActivation | null>; // per layer: f_l when the module runs it
  private readonly inputs: Float32Array[] = []; // what each layer read in the last forward: X (dropped in place), A_{l-1} or Ã_{l-1}
  readonly dropout: Dropout<Float32Array> | null; // null: nothing dropped
  private readonly maxNorm: number;
  private readonly l2: ModuleL2; // the L2 term (wasm-l2.ts)
  private n = 0;

  constructor(model: Mlp, rt: WasmRuntime, o: WasmPassOptions) {
    if (model.Float !== Float32Array) throw new TypeError('the WebAssembly pass trains float32 models only');
    this.model = model;
    this.capacity = o.capacity;
    this.rt = rt;
    this.k = moduleCalls(rt);
    this.optimizer = o.optimizer;
    this.layout = new WasmLayout(model);
    finalizer.register(this, { rt, blocks: this.blocks }, this);
    const { layout } = this;
    const capacity = o.capacity;
    const f32 = (floats: number): Float32Array => rt.heap.f32(this.alloc(floats * 4), floats);
    const P = layout.size;
    this.params = f32(P);
    this.grads = f32(P).fill(0); // the panel padding is never written
    this.state = Object.fromEntries(OPTIMIZER_STATE[o.optimizer.name].map((name) => [name, f32(P)]));
    this.scalars = newOptimizerScalars(o.optimizer);
    this.W = model.slots.map((_, l) => this.params.subarray(layout.wAt[l], layout.bAt(l)));
    this.b = model.slots.map((s, l) => this.params.subarray(layout.bAt(l), layout.bAt(l) + s.O));
    this.dW = model.slots.map((_, l) => this.grads.subarray(layout.wAt[l], layout.bAt(l)));
    this.db = model.slots.map((s, l) => this.grads.subarray(layout.bAt(l), layout.bAt(l) + s.O));
    this.X = f32(capacity * model.inputs);
    const perLayer = (width: 'O' | 'units'): Float32Array[] => model.slots.map((s) => f32(capacity * s[width]));
    this.Z = perLayer('O');
    this.A = perLayer('units');
    this.dA = perLayer('units');
    this.delta = perLayer('O');
    const dense = denseBackwardFloats(model.spec.layers, capacity, model.pieces);
    this.dense = { deltaT: 0, dAT: 0, deltaPad: 0, wRowMajor: 0 };
    for (const [name, floats] of Object.entries(dense) as Array<[keyof typeof dense, number]>) this.dense[name] = floats > 0 ? this.alloc(4 * floats) : 0;
    this.panelThreads = rt.threads;
    const scratch = scratchBytes(model.spec.layers, capacity, model.pieces);
    this.panels = { at: this.alloc(this.panelThreads * scratch), bytes: scratch };
    const { I, O } = model.slots[0];
    const firstGemm = sparseInput(o.inputDensity ?? 0) ? null : this.gemmOnThreads; // dense data: gemm (wasm-sparse-layer.ts)
    this.first = new SparseLayer(this.k, (bytes) => this.alloc(bytes), capacity, { I, O, ldW: layout.ldW[0], psW: layout.psW[0] }, this.panels, firstGemm);
    this.sparse = model.slots.map((sl, l) =>
      l > 0 && !layout.narrow[l] && sparseHidden(model.spec.hidden, capacity, sl.O)
        ? new SparseLayer(this.k, (bytes) => this.alloc(bytes), capacity, { I: sl.I, O: sl.O, ldW: layout.ldW[l], psW: ROW_MAJOR }, this.panels)
        : null);
    this.dropout = moduleDropout(this.k, model, capacity, o.regularization, f32);
    this.maxNorm = o.regularization?.maxNorm ?? 0;
    const f64 = (count: number): Float64Array => rt.heap.f64(this.alloc(8 * count), count);
    this.l2 = new ModuleL2(this.k, this.W, this.dW, l2Blocks(model.spec.layers, model.pieces), f64);
    this.inModule = model.slots.map((_, l) => {
      const f = l === model.L - 1 ? model.spec.output : model.spec.hidden;
      return inModule(f) ? f : null;
    });
  }

  /** Give the memory back; the pass is unusable afterwards. */
  dispose(): void {
    finalizer.unregister(this);
    for (const ptr of this.blocks) this.rt.heap.release(ptr);
    this.blocks.length = 0;
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

  /** Working parameters and optimizer state <- canonical ones (PyTorch layout). */
  load(params: Vec, state: OptimizerState): void {
    this.params.fill(0);
    this.layout.toWorking(this.params, params);
    for (const [name, s] of Object.entries(this.state)) {
      s.fill(0);
      this.layout.toWorking(s, state[name]);
    }
  }

  /** Canonical parameters and optimizer state <- the working ones. */
  store(params: Vec, state: OptimizerState): void {
    this.layout.toCanonical(params, this.params);
    for (const [name, s] of Object.entries(this.state)) this.layout.toCanonical(state[name], s);
  }

  /** Z_l = A_{l-1} W_l^T + b_l, A_l = f_l(Z_l) for the first n rows of X. */
  forward(n: number): Float32Array {
    if (n > this.capacity) throw new RangeError(`batch of ${n} rows exceeds pass capacity ${this.capacity}`);
    this.n = n;
    const { model: m, layout, k } = this;
    const threads = k.threads;
    let input = this.dropout ? this.dropout.input(this.X, n) : this.X;
    for (let l = 0; l < m.L; l++) {
      const { I, O } = m.slots[l];
      const Z = this.Z[l];
      const sparse = this.sparse[l];
      this.inputs[l] = input;
      k.bias_rows(n, grainOf(n, threads, 1, 256), { Z, b: this.b[l], O });
      if (l === 0) {
        this.checkThreads(); // the sparse products of large batches use the panel scratch too
        this.first.forward(Z, input, this.W[0], n);
      } else if (sparse !== null) {
        sparse.forward(Z, input, this.W[l], n);
      } else if (layout.narrow[l]) {
        k.dot_rows(n, grainOf(n, threads, 2, 32), { C: Z, A: input, W: this.W[l], K: I, O });
      } else {
        this.gemm({ C: Z, ldc: O, cps: ROW_MAJOR, A: input, ars: I, aks: 1, B: this.W[l], ldb: layout.ldW[l], bps: layout.psW[l], P: n, Q: O, K: I, acc: 1 });
      }
      this.activate(l);
      input = this.dropout ? this.dropout.hidden(l, this.A[l], this.n) : this.A[l];
    }
    return this.Y;
  }

  /** delta_{L-1} = f'(Z_{L-1}) ⊙ dY. */
  backwardOutput(): void {
    this.activateBackward(this.model.L - 1);
  }

  /** From deltaY down: every dW_l, db_l (overwritten, in the working layout) and delta_l for l < L-1. */
  backwardLayers(): void {
    const { model: m, layout, k } = this;
    const n = this.n;
    for (let l = m.L - 1; l >= 0; l--) {
      const { I, O } = m.slots[l];
      if (l < m.L - 1) this.activateBackward(l);
      const delta = this.delta[l];
      const input = this.inputs[l];
      if (layout.narrow[l]) {
        // dW_l [O, I] = delta_l^T A_{l-1};  dA_{l-1} [n, I] = delta_l [n, O] W_l [O, I]
        this.gemm({ C: this.dW[l], ldc: I, cps: ROW_MAJOR, A: delta, ars: 1, aks: O, B: input, ldb: I, bps: ROW_MAJOR, P: O, Q: I, K: n, acc: 0 });
        this.gemm({ C: this.dA[l - 1], ldc: I, cps: ROW_MAJOR, A: delta, ars: O, aks: 1, B: this.W[l], ldb: I, bps: ROW_MAJOR, P: n, Q: I, K: O, acc: 0 });
      } else if (l === 0) {
        this.checkThreads();
        this.first.weightGradient(this.dW[0], input, delta, n);
      } else {
        const d = { I, O, ld: layout.ldW[l], W: this.W[l], dW: this.dW[l], delta, input, dA: this.dA[l - 1] };
        denseBackward(k, this.gemmOnThreads, this.dense, d, n, this.sparse[l]); // wasm-dense.ts
      }
      k.col_sums(O, O, { db: this.db[l], D: delta, N: n, O });
    }
  }

  /** Σ_l Σ_k W_l[k]^2, in the module (wasm-l2.ts): the same bits on any number of threads. */
  l2Sum(): number {
    return this.l2.sum();
  }

  /** dW_l += lambda W_l in the module, with addScaled's bits. */
  addL2Grad(lambda: number): void {
    this.l2.addGrad(lambda);
  }

  /** The optimizer's update (optimizer.ts) on every working parameter, in the module (wasm-step.ts). */
  step(s: StepInputs): void {
    moduleStep(this.k, this.optimizer, { P: this.params, G: this.grads, weights: this.W, state: this.state, scalars: this.scalars }, s);
    if (this.maxNorm > 0) moduleMaxNorm(this.k, this.layout, this.W, this.maxNorm);
  }

  useMasks(t: number): void {
    this.dropout?.setStep(t);
  }

  /** C (+)= A B on every thread. */
  private gemm(g: GemmOperands): void {
    this.checkThreads();
    runGemm(this.k, this.panels, g);
  }

  /** The panel scratch is per thread: refuse more threads than it was made for. */
  private checkThreads(): void {
    if (this.k.threads > this.panelThreads) {
      throw new Error(`WasmPass was made for ${this.panelThreads} threads, the kernels now run ${this.k.threads}: make the pass after setKernelThreads`);
    }
  }

  /** A_l = f_l(Z_l) for the batch's rows: sigmoid, softplus and relu in the module, the others in TypeScript on the same memory. */
  private activate(l: number): void {
    const { units } = this.model.slots[l];
    const f = this.inModule[l];
    const len = this.n * units; // f is element-wise here: units = O
    const grain = grainOf(len, this.k.threads, 16, 4096);
    if (f !== null) this.k[f](len, grain, { A: this.A[l], Z: this.Z[l] });
    else this.model.activation(l).forward(this.A[l], this.Z[l], this.n, units);
  }

  /** delta_l = f_l'(Z_l) ⊙ dA_l, from the stored A_l (sigmoid, relu) or Z_l (softplus, maxout); dropped outputs: dA_l = M_l ⊙ dE/dÃ_l s first. */
  private activateBackward(l: number): void {
    this.dropout?.backward(l, this.dA[l], this.n);
    const { units } = this.model.slots[l];
    const f = this.inModule[l];
    const len = this.n * units;
    const grain = grainOf(len, this.k.threads, 16, 4096);
    if (f === 'sigmoid') this.k.sigmoid_backward(len, grain, { dZ: this.delta[l], dA: this.dA[l], A: this.A[l] });
    else if (f === 'softplus') this.k.softplus_backward(len, grain, { dZ: this.delta[l], dA: this.dA[l], Z: this.Z[l] });
    else if (f === 'relu') this.k.relu_backward(len, grain, { dZ: this.delta[l], dA: this.dA[l], A: this.A[l] });
    else this.model.activation(l).backward(this.delta[l], this.dA[l], this.A[l], this.Z[l], this.n, units);
  }

  private alloc(bytes: number): number {
    const ptr = this.rt.heap.alloc(bytes);
    this.blocks.push(ptr);
    return ptr;
  }
}
