// Both cores: the rows of C are cut into chunks that the main thread and
// worker threads claim one at a time (an atomic counter), each running the
// same WebAssembly gemm on its rows of the shared memory. Chunks, not halves:
// if another process holds a core, the thread there claims fewer chunks and
// the product slows down gracefully instead of waiting at a barrier.
//
// Every entry of C is computed by one thread with the same sequence of
// operations whatever the chunking (the k sum of a row does not depend on
// which rows share its tile), so the result is bit-identical for any thread
// count.
import { Worker } from 'node:worker_threads';

export type Gemm = (C: number, ldc: number, A: number, ars: number, aks: number, B: number, ldb: number, P: number, Q: number, K: number, acc: number, S: number) => void;

// Control block (Int32Array over a SharedArrayBuffer).
const GEN = 0; // job generation: bumped to start a job
const NEXT = 1; // next chunk to claim
const DONE = 2; // chunks finished
const CHUNKS = 3; // chunks in the job
const ROWS = 4; // rows per chunk
const ARGS = 5; // 11 gemm arguments
const SCRATCH = 16; // byte address of thread 0's panel scratch
const SCRATCH_STRIDE = 17; // bytes of panel scratch per thread
const STOP = 18;
const ACTIVE = 19; // workers inside a job
const OPEN = 20; // the generation workers may join, 0 while none (arguments being written, or the job closed)
const CTRL_INTS = 21;

// The worker: instantiate the module on the shared memory, then run chunks of each job.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl: sab, index } = workerData;
const ctrl = new Int32Array(sab);
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${GEN}, seen);
  seen = Atomics.load(ctrl, ${GEN});
  if (Atomics.load(ctrl, ${STOP})) break;
  // Enter, then check the job is still open: the main thread closes a job
  // (OPEN = 0) before it waits for ACTIVE to reach 0, and writes the next
  // job's arguments only after that, so an entered worker reads whole arguments.
  Atomics.add(ctrl, ${ACTIVE}, 1);
  if (Atomics.load(ctrl, ${OPEN}) !== seen) {
    Atomics.sub(ctrl, ${ACTIVE}, 1);
    Atomics.notify(ctrl, ${ACTIVE});
    continue;
  }
  const chunks = ctrl[${CHUNKS}], rows = ctrl[${ROWS}];
  const [C, ldc, A, ars, aks, B, ldb, P, Q, K, acc] = ctrl.subarray(${ARGS}, ${ARGS + 11});
  const S = ctrl[${SCRATCH}] + index * ctrl[${SCRATCH_STRIDE}];
  for (let c = Atomics.add(ctrl, ${NEXT}, 1); c < chunks; c = Atomics.add(ctrl, ${NEXT}, 1)) {
    const p0 = c * rows, n = Math.min(rows, P - p0);
    gemm(C + p0 * ldc * 4, ldc, A + p0 * ars * 4, ars, aks, B, ldb, n, Q, K, acc, S);
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === chunks) Atomics.notify(ctrl, ${DONE});
  }
  Atomics.sub(ctrl, ${ACTIVE}, 1);
  Atomics.notify(ctrl, ${ACTIVE});
}
`;

/** Rows per chunk: several chunks per thread (so a slow core takes fewer), a multiple of the 4-row tile. */
function chunkRows(P: number, threads: number): number {
  const target = Math.ceil(P / (threads * 4));
  return Math.max(4, Math.ceil(target / 4) * 4);
}

export class GemmPool {
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly workers: Worker[];

  /** `threads` - 1 workers on `memory` (shared); the calling thread is the last one. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number) {
    this.threads = threads;
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
    this.workers = [];
    for (let index = 0; index < threads - 1; index++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: this.ctrl.buffer, index } });
      w.unref(); // idle workers must not keep the process alive
      this.workers.push(w);
    }
  }

  /**
   * C (+)= A B over all threads, with gemm's parameters (gemm-wat.ts);
   * `scratch` is the byte address of panel scratch for `threads` threads,
   * `stride` bytes each (the caller's own is the last). Allocates nothing.
   */
  run(
    gemm: Gemm, C: number, ldc: number, A: number, ars: number, aks: number, B: number, ldb: number,
    P: number, Q: number, K: number, acc: number, scratch: number, stride: number,
  ): void {
    if (this.threads === 1 || P <= 8) {
      gemm(C, ldc, A, ars, aks, B, ldb, P, Q, K, acc, scratch);
      return;
    }
    const ctrl = this.ctrl;
    const rows = chunkRows(P, this.threads);
    const chunks = Math.ceil(P / rows);
    ctrl[ARGS] = C;
    ctrl[ARGS + 1] = ldc;
    ctrl[ARGS + 2] = A;
    ctrl[ARGS + 3] = ars;
    ctrl[ARGS + 4] = aks;
    ctrl[ARGS + 5] = B;
    ctrl[ARGS + 6] = ldb;
    ctrl[ARGS + 7] = P;
    ctrl[ARGS + 8] = Q;
    ctrl[ARGS + 9] = K;
    ctrl[ARGS + 10] = acc;
    ctrl[CHUNKS] = chunks;
    ctrl[ROWS] = rows;
    ctrl[SCRATCH] = scratch;
    ctrl[SCRATCH_STRIDE] = stride;
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NEXT, 0);
    const gen = Atomics.load(ctrl, GEN) + 1;
    Atomics.store(ctrl, OPEN, gen); // open before announcing, so a worker that sees GEN = gen may join
    Atomics.store(ctrl, GEN, gen);
    Atomics.notify(ctrl, GEN);
    const S = scratch + (this.threads - 1) * stride;
    for (let c = Atomics.add(ctrl, NEXT, 1); c < chunks; c = Atomics.add(ctrl, NEXT, 1)) {
      const p0 = c * rows;
      gemm(C + p0 * ldc * 4, ldc, A + p0 * ars * 4, ars, aks, B, ldb, Math.min(rows, P - p0), Q, K, acc, S);
      Atomics.add(ctrl, DONE, 1);
    }
    for (let done = Atomics.load(ctrl, DONE); done < chunks; done = Atomics.load(ctrl, DONE)) {
      Atomics.wait(ctrl, DONE, done, 50);
    }
    // Close the job and let every worker that entered it leave, before anything is rewritten.
    Atomics.store(ctrl, OPEN, 0);
    for (let active = Atomics.load(ctrl, ACTIVE); active > 0; active = Atomics.load(ctrl, ACTIVE)) {
      Atomics.wait(ctrl, ACTIVE, active, 50);
    }
  }

  close(): void {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) void w.terminate();
  }
}
