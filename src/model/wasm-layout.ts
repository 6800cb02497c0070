// The fast pass's parameter layout. The parameters go in the order of Mlp
// (W_0 | b_0 | W_1 | ...) but each W_l is stored transposed, W_l^T [I, O], so
// that both products of a layer read their operands without a transpose:
//
//   forward   Z_l    = A_{l-1} W_l^T + b_l          B = W_l^T [I, O]
//   backward  dW_l^T = A_{l-1}^T delta_l            C = dW_l^T [I, O] (the gradient in the same layout)
//             dA_{l-1} = delta_l W_l                l >= 1 only: (W_l^T delta_l^T)^T, or from W_l [O, I] transposed per batch (wasm-dense.ts)
//
// W_0^T, read by every batch's forward product and never transposed, is kept
// in 16-column panels (gemm-wat.ts: [I, 16] per 16 outputs, the last padded
// with zeros), so a tile's columns are consecutive bytes; the other W_l^T are
// row-major, their rows rowStride(O) floats apart: a width whose rows would be
// a multiple of 1 KB apart (1024 units: 4 KB) gets 16 floats of padding per
// row, or else the rows a product's tile reads all land in the same few cache
// sets and the 1024x1024 products of a deep net run at half speed. A narrow
// layer (l >= 1, fewer than 16 outputs: the 10 classes) keeps W_l [O, I] as
// Mlp does: its forward product is a dot product per output (dot-wat.ts), and
// dW_l = delta_l^T A_{l-1}, dA_{l-1} = delta_l W_l read W_l without a
// transpose. Gradients and optimizer state share the
// layout; the padding stays zero (no product writes it, and no update moves
// a parameter whose gradient and state are zero).
import { panelFloats, panelIndex, PANEL_Q, ROW_MAJOR } from '../kernels/wasm/gemm-wat.js';
import type { Vec } from '../kernels/matmul.js';
import type { Mlp } from './mlp.js';

/** Floats between the rows of a row-major W_l^T [I, O] (and of what is read beside it): O, padded by 16 when 4·O is a multiple of 1 KB. */
export function rowStride(O: number): number {
  return O % 256 === 0 ? O + PANEL_Q : O;
}

/** Floats of W_l in the working layout: W_0^T in 16-column panels, a narrow W_l [O, I] as it is, the other W_l^T with rowStride(O) rows. */
export function weightFloats(s: { I: number; O: number }, l: number): number {
  if (l === 0) return panelFloats(s.I, s.O);
  return s.O < PANEL_Q ? s.I * s.O : s.I * rowStride(s.O);
}

export class WasmLayout {
  readonly model: Mlp;
  /** Floats of the whole working buffer. */
  readonly size: number;
  /** Per layer: W_l kept [O, I] (a narrow layer), else W_l^T. */
  readonly narrow: boolean[];
  /** Per layer: floats between rows of W_l^T, and between its 16-column panels (ROW_MAJOR: none). */
  readonly ldW: number[];
  readonly psW: number[];
  /** Per layer: the offset and floats of W_l in the working buffer (b_l follows it). */
  readonly wAt: number[] = [];
  readonly wFloats: number[];

  constructor(model: Mlp) {
    this.model = model;
    const panelled = model.slots.map((_, l) => l === 0);
    this.narrow = model.slots.map((s, l) => l > 0 && s.O < PANEL_Q);
    this.ldW = model.slots.map((s, l) => (panelled[l] ? PANEL_Q : this.narrow[l] ? s.O : rowStride(s.O)));
    this.psW = model.slots.map((s, l) => (panelled[l] ? PANEL_Q * s.I : ROW_MAJOR));
    this.wFloats = model.slots.map((s, l) => weightFloats(s, l));
    let P = 0;
    for (const [l, s] of model.slots.entries()) {
      this.wAt.push(P);
      P += this.wFloats[l] + s.O;
    }
    this.size = P;
  }

  /** Offset of b_l in the working buffer. */
  bAt(l: number): number {
    return this.wAt[l] + this.wFloats[l];
  }

  /** Index of W_l[o, i] in W_l's working layout. */
  wIndex(l: number, o: number, i: number): number {
    if (this.narrow[l]) return o * this.model.slots[l].I + i;
    return panelIndex(i, o, this.ldW[l], this.psW[l]);
  }

  /** working <- canonical (Mlp's layout); the padding of `working` is left as it is. */
  toWorking(working: Vec, canonical: Vec): void {
    this.convert(canonical, working, true);
  }

  /** canonical <- working. */
  toCanonical(canonical: Vec, working: Vec): void {
    this.convert(working, canonical, false);
  }

  private convert(src: Vec, dst: Vec, toWorking: boolean): void {
    for (const [l, s] of this.model.slots.entries()) {
      const { I, O, wOffset, bOffset } = s;
      const w = this.wAt[l];
      const b = this.bAt(l);
      for (let o = 0; o < O; o++) {
        for (let i = 0; i < I; i++) {
          if (toWorking) dst[w + this.wIndex(l, o, i)] = src[wOffset + o * I + i];
          else dst[wOffset + o * I + i] = src[w + this.wIndex(l, o, i)];
        }
      }
      for (let o = 0; o < O; o++) dst[(toWorking ? b : bOffset) + o] = src[(toWorking ? bOffset : b) + o];
    }
  }
}
