// Both cores: a job is one of the module's range functions, fn(u0, u1, S,
// ...args) (signatures.ts), over `units` units (rows, columns or elements)
// cut into chunks of `grain` units that the main thread and the workers claim
// one at a time (an atomic counter), each on the shared memory. Chunks, not
// halves: if another process holds a core, the thread there claims fewer
// chunks and the job slows down gracefully instead of waiting at a barrier.
// When even that loses to one thread (a step's jobs are short, and a
// descheduled worker holds its chunk for a time slice), the pool measures it
// and runs jobs on the calling thread alone for a while (the README's speed
// section has the figures).
//
// Every unit is computed by one thread with the same sequence of operations
// whatever the chunking (grains are multiples of the kernels' tiles), so the
// result is bit-identical for any thread count.
import { Worker } from 'node:worker_threads';
import { MAX_ARGS, POOL_FUNCTIONS } from './signatures.js';

/** A range function of the module: fn(u0, u1, S, a0, .., a12), every argument an i32 word. */
export type PoolFunction = (u0: number, u1: number, S: number, ...args: number[]) => void;

// Control block (Int32Array over a SharedArrayBuffer).
const GEN = 0; // job generation: bumped to start a job
const NEXT = 1; // next chunk to claim
const DONE = 2; // chunks finished
const CHUNKS = 3; // chunks in the job
const GRAIN = 4; // units per chunk
const UNITS = 5;
const FUNC = 6; // index into POOL_FUNCTIONS
const SCRATCH = 7; // byte address of thread 0's scratch
const SCRATCH_STRIDE = 8; // bytes of scratch per thread
const STOP = 9;
const ACTIVE = 10; // workers inside a job
const OPEN = 11; // the generation workers may join, 0 while none (arguments being written, or the job closed)
const ARGS = 12; // MAX_ARGS argument words
const CTRL_INTS = ARGS + MAX_ARGS;
/** Checks of the job generation a worker makes before it sleeps. */
const SPIN = 20000;
/** Parallel jobs per check of whether the calling thread alone would be faster, and jobs then run alone (a few hundred training steps). */
const WINDOW_JOBS = 100;
const SOLO_JOBS = 5000;

// The worker: instantiate the module on the shared memory, then run chunks of each job.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl: sab, index, names } = workerData;
const ctrl = new Int32Array(sab);
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((name) => exports[name]);
let seen = 0;
for (;;) {
  // A training step is a string of short jobs: spin a little (about 50 us) before
  // sleeping, so the next job does not wait for this thread to be woken up.
  for (let spin = 0; spin < ${SPIN} && Atomics.load(ctrl, ${GEN}) === seen; spin++);
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
  const fn = fns[ctrl[${FUNC}]], chunks = ctrl[${CHUNKS}], grain = ctrl[${GRAIN}], units = ctrl[${UNITS}];
  const [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12] = ctrl.subarray(${ARGS}, ${ARGS + MAX_ARGS});
  const S = ctrl[${SCRATCH}] + index * ctrl[${SCRATCH_STRIDE}];
  for (let c = Atomics.add(ctrl, ${NEXT}, 1); c < chunks; c = Atomics.add(ctrl, ${NEXT}, 1)) {
    const u0 = c * grain;
    fn(u0, Math.min(u0 + grain, units), S, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === chunks) Atomics.notify(ctrl, ${DONE});
  }
  Atomics.sub(ctrl, ${ACTIVE}, 1);
  Atomics.notify(ctrl, ${ACTIVE});
}
`;

export class WorkerPool {
  readonly threads: number;
  private readonly ctrl: Int32Array;
  private readonly workers: Worker[];
  private readonly fns: readonly PoolFunction[];
  /** Jobs left to run on the calling thread alone (workers found on a busy core). */
  private solo = 0;
  /** Over the current window of WINDOW_JOBS parallel jobs: their time, and the estimated time alone. */
  private windowJobs = 0;
  private windowTime = 0;
  private windowAlone = 0;

  /** `threads` - 1 workers on `memory` (shared); the calling thread is the last one. */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, fns: readonly PoolFunction[], threads: number) {
    this.threads = threads;
    this.fns = fns;
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
    this.workers = [];
    for (let index = 0; index < threads - 1; index++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl: this.ctrl.buffer, index, names: POOL_FUNCTIONS } });
      w.unref(); // idle workers must not keep the process alive
      this.workers.push(w);
    }
  }

  /**
   * fn(u0, u1, S, ...args) over [0, units) in chunks of `grain` units, on all
   * threads; thread t's S is scratch + t * stride (the caller's own is the
   * last). `args` holds the argument words (calls.ts fills it). Jobs of at
   * most `grain` units run on the calling thread alone. Allocates nothing.
   */
  run(fn: number, units: number, grain: number, scratch: number, stride: number, args: Int32Array): void {
    const S = scratch + (this.threads - 1) * stride;
    const a = args;
    const f = this.fns[fn];
    if (this.solo > 0) this.solo--;
    if (this.threads === 1 || units <= grain || this.solo > 0) {
      f(0, units, S, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]);
      return;
    }
    const ctrl = this.ctrl;
    const chunks = Math.ceil(units / grain);
    this.announce(fn, units, grain, chunks, scratch, stride, args);
    const t0 = performance.now();
    let mine = 0;
    for (let c = Atomics.add(ctrl, NEXT, 1); c < chunks; c = Atomics.add(ctrl, NEXT, 1)) {
      const u0 = c * grain;
      f(u0, Math.min(u0 + grain, units), S, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]);
      Atomics.add(ctrl, DONE, 1);
      mine++;
    }
    const t1 = performance.now();
    for (let done = Atomics.load(ctrl, DONE); done < chunks; done = Atomics.load(ctrl, DONE)) {
      Atomics.wait(ctrl, DONE, done, 50);
    }
    this.measure(t0, t1, performance.now(), mine, chunks);
    // Close the job and let every worker that entered it leave, before anything is rewritten.
    Atomics.store(ctrl, OPEN, 0);
    for (let active = Atomics.load(ctrl, ACTIVE); active > 0; active = Atomics.load(ctrl, ACTIVE)) {
      Atomics.wait(ctrl, ACTIVE, active, 50);
    }
  }

  /** Write a job into the control block and wake the workers. */
  private announce(fn: number, units: number, grain: number, chunks: number, scratch: number, stride: number, args: Int32Array): void {
    const ctrl = this.ctrl;
    ctrl[FUNC] = fn;
    ctrl[UNITS] = units;
    ctrl[GRAIN] = grain;
    ctrl[CHUNKS] = chunks;
    ctrl[SCRATCH] = scratch;
    ctrl[SCRATCH_STRIDE] = stride;
    for (let i = 0; i < MAX_ARGS; i++) ctrl[ARGS + i] = args[i];
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NEXT, 0);
    const gen = Atomics.load(ctrl, GEN) + 1;
    Atomics.store(ctrl, OPEN, gen); // open before announcing, so a worker that sees GEN = gen may join
    Atomics.store(ctrl, GEN, gen);
    Atomics.notify(ctrl, GEN);
  }

  /**
   * A worker on a core that another process holds runs its chunks late, and
   * waiting for them at every job can make two threads slower than one. Per
   * window of jobs, compare the time they took (t0..t2) with the time this
   * thread alone would have taken (its own `mine` chunks' time t0..t1, scaled
   * to all chunks); if alone is faster, run the next SOLO_JOBS jobs here alone
   * (the same units, the same bits), then try the workers again.
   */
  private measure(t0: number, t1: number, t2: number, mine: number, chunks: number): void {
    this.windowTime += t2 - t0;
    this.windowAlone += mine > 0 ? ((t1 - t0) * chunks) / mine : t2 - t0;
    if (++this.windowJobs === WINDOW_JOBS) {
      if (this.windowTime > 1.1 * this.windowAlone) this.solo = SOLO_JOBS;
      this.windowJobs = 0;
      this.windowTime = 0;
      this.windowAlone = 0;
    }
  }

  close(): void {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * Units per chunk for a job of `units` units on `threads` threads: about four
 * chunks per thread (so a thread on a busy core takes fewer), a multiple of
 * `multiple` (the kernel's tile), at least `min` (below that, a chunk costs
 * more to hand out than to compute).
 */
export function grainOf(units: number, threads: number, multiple: number, min = multiple): number {
  const g = Math.ceil(units / (threads * 4));
  return Math.max(min, Math.ceil(g / multiple) * multiple);
}

/**
 * Column tiles per chunk of a sparse product (spmm): small chunks, about 12
 * per thread, as the tiles are few (50 for 800 units) and cost the same.
 */
export function tileGrain(tiles: number, threads: number): number {
  return Math.max(1, Math.floor(tiles / (12 * threads)));
}
