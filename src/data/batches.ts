// Batches: pixels stay bytes in the Dataset and are scaled to [0,1] here, one
// batch at a time, into buffers allocated once. The order of an epoch is a
// seeded Fisher-Yates shuffle of the sample indices.
import type { Vec } from '../kernels/matmul.js';
import type { Rng } from '../rng.js';
import type { Dataset } from './mnist.js';
import { moduleBatchWriter, type BatchWriter } from './module-batches.js';

/** byte -> byte/255 as float32, so scaling a pixel is one table load. */
export const PIXEL = new Float32Array(256).map((_, v) => v / 255);

export class Batcher {
  readonly ds: Dataset;
  readonly size: number; // rows of a full batch
  readonly X: Vec; // [size, features]
  readonly labels: Uint8Array; // [size]
  private readonly order: Uint32Array; // sample index of each position in the epoch
  /** Writes X through the WebAssembly module when X lives in its memory (module-batches.ts), else null: load()'s own loop. */
  private readonly write: BatchWriter | null;

  /** `X`: where to write the batches (a pass's input buffer, say); one of its own if absent. */
  constructor(ds: Dataset, size: number, X?: Vec) {
    this.ds = ds;
    this.size = Batcher.rows(ds, size);
    if (X && X.length < this.size * ds.features) throw new RangeError(`batch buffer of ${X.length} floats < ${this.size} x ${ds.features}`);
    this.X = X ?? new Float32Array(this.size * ds.features);
    this.labels = new Uint8Array(this.size);
    this.order = new Uint32Array(ds.n);
    this.write = moduleBatchWriter(ds, this.X, PIXEL);
    this.resetOrder();
  }

  /** Rows of a full batch for a requested size on this dataset. */
  static rows(ds: Dataset, size: number): number {
    return Math.min(size, ds.n);
  }

  /** Batches per epoch; the last one may be short. */
  get count(): number {
    return Math.ceil(this.ds.n / this.size);
  }

  /** Back to the file order 0..n-1. */
  resetOrder(): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
  }

  /** A new epoch order, from the file order, so that it depends only on the RNG state. */
  shuffle(rng: Rng): void {
    this.resetOrder();
    rng.shuffle(this.order);
  }

  /** Fill X and labels with batch k of the current order; returns its row count. */
  load(k: number): number {
    const { ds, X, labels, order } = this;
    const F = ds.features;
    const start = k * this.size;
    const rows = Math.min(this.size, ds.n - start);
    if (this.write) {
      for (let r = 0; r < rows; r++) labels[r] = ds.labels[order[start + r]];
      this.write(order, start, rows);
      return rows;
    }
    for (let r = 0; r < rows; r++) {
      const s = order[start + r];
      labels[r] = ds.labels[s];
      const src = s * F;
      const dst = r * F;
      for (let f = 0; f < F; f++) X[dst + f] = PIXEL[ds.images[src + f]];
    }
    return rows;
  }
}
