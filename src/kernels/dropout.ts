// Dropout masks from a counter-based hash (the reference; the module's
// `dropout` in wasm/dropout-wat.ts computes the same bits). Whether element j
// of a batch matrix is kept depends only on the mask's key and j, so any
// thread can decide any element, a backward pass redraws the forward's mask
// instead of storing it, and a resumed run needs no saved generator state.
//
//   fmix(x)   = murmur3's 32-bit finalizer (a bijection of u32)
//   h(j)      = fmix(fmix(j G + k1) xor k2)          G = 0x9e3779b9, all mod 2^32
//   keep(j)   = h(j) >= threshold  (unsigned)          threshold = round(p 2^32)
//   out[j]    = keep(j) ? A[j] * scale : 0            scale = 1 / (1 - p)  (inverted dropout)
//
// j G + k1 walks a Weyl sequence (distinct for the 2^32 indices of one key);
// the second keyed round keeps two keys' streams from being shifted copies of
// each other: keys with k1' = k1 + m G would be, but only with k2' = k2 too
// (src/model/dropout.ts draws k1 and k2 from two separate chains).
// P(keep) = 1 - threshold / 2^32, within 2^-33 of 1 - p.
//
// Forward and backward are the same map: forward drops activations,
// out = M ⊙ A s; backward sends dE/d(out) back through the same M and s,
// dA = M ⊙ d(out) s. In place (out === A) is allowed.
import type { Vec } from './matmul.js';

/** A mask of one matrix of one step: the hash keys, the drop threshold and the scale of kept values. */
export interface MaskKey {
  k1: number;
  k2: number;
  /** u32: an element is kept when its hash is >= this. */
  threshold: number;
  scale: number;
}

export const WEYL = 0x9e3779b9;
export const FMIX_M1 = 0x85ebca6b;
export const FMIX_M2 = 0xc2b2ae35;

/** murmur3's fmix32: x -> u32, a bijection that mixes every input bit into every output bit. */
export function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, FMIX_M1);
  x ^= x >>> 13;
  x = Math.imul(x, FMIX_M2);
  x ^= x >>> 16;
  return x >>> 0;
}

/** h(j) of the legend, a u32. */
export function maskHash(j: number, k1: number, k2: number): number {
  return fmix32(fmix32((Math.imul(j, WEYL) + k1) | 0) ^ k2);
}

/** The u32 threshold of drop probability p in [0, 1): round(p 2^32), at most 2^32 - 1. */
export function dropThreshold(p: number): number {
  return Math.min(Math.round(p * 4294967296), 4294967295);
}

/** out[j] = keep(j) ? A[j] scale : 0 for j < len (out may be A). */
export function dropoutMask(out: Vec, A: Vec, len: number, key: MaskKey): void {
  const { k1, k2, threshold, scale } = key;
  for (let j = 0; j < len; j++) out[j] = maskHash(j, k1, k2) >= threshold ? A[j] * scale : 0;
}
