// Batches written by the WebAssembly module, for a batch buffer that lives in
// its memory (the fast pass's X): the dataset's images are copied into the
// memory once, and each batch is scaled into X there by load_batch, on every
// thread. The same values as Batcher's own loop (one table lookup a pixel).
import { moduleCalls, type ModuleCalls } from '../kernels/wasm/calls.js';
import { grainOf } from '../kernels/wasm/pool.js';
import { wasmRuntime, type WasmRuntime } from '../kernels/wasm/runtime.js';
import type { Dataset } from './mnist.js';

/** Fills X with the samples order[start, start + rows), scaled to [0, 1]. */
export type BatchWriter = (order: Uint32Array, start: number, rows: number) => void;

const finalizer = new FinalizationRegistry<{ rt: WasmRuntime; blocks: number[] }>(({ rt, blocks }) => {
  for (const ptr of blocks) rt.heap.release(ptr);
});

/** A writer through the module when X is in its memory; null otherwise. */
export function moduleBatchWriter(ds: Dataset, X: Float32Array | Float64Array, pixel: Float32Array): BatchWriter | null {
  if (!(X instanceof Float32Array) || !(X.buffer instanceof SharedArrayBuffer)) return null;
  const rt = wasmRuntime().runtime;
  if (!rt || !rt.heap.owns(X)) return null;
  const w = new ModuleBatches(rt, ds, X, pixel);
  return (order, start, rows) => w.write(order, start, rows);
}

class ModuleBatches {
  private readonly k: ModuleCalls;
  private readonly X: Float32Array;
  private readonly K: number; // features per sample
  private readonly images: Uint8Array; // the dataset's pixels, in the memory
  private readonly table: Float32Array; // byte -> float
  private readonly order: Int32Array; // sample index of each row of the batch

  constructor(rt: WasmRuntime, ds: Dataset, X: Float32Array, pixel: Float32Array) {
    this.k = moduleCalls(rt);
    this.X = X;
    this.K = ds.features;
    const rows = Math.floor(X.length / ds.features);
    const blocks = [ds.images.length, 4 * pixel.length, 4 * rows].map((bytes) => rt.heap.alloc(bytes));
    finalizer.register(this, { rt, blocks });
    this.images = rt.heap.u8(blocks[0], ds.images.length);
    this.images.set(ds.images);
    this.table = rt.heap.f32(blocks[1], pixel.length);
    this.table.set(pixel);
    this.order = rt.heap.i32(blocks[2], rows);
  }

  write(order: Uint32Array, start: number, rows: number): void {
    if (rows > this.order.length) throw new RangeError(`batch of ${rows} rows exceeds the buffer's ${this.order.length}`);
    for (let r = 0; r < rows; r++) this.order[r] = order[start + r];
    this.k.load_batch(rows, grainOf(rows, this.k.threads, 1, 16), { X: this.X, images: this.images, order: this.order, K: this.K, table: this.table });
  }
}
