// The WebAssembly text of the dropout mask (the reference and the legend are
// src/kernels/dropout.ts): out[j] = keep(j) ? A[j] scale : 0 over the
// elements j in [u0, u1) of a batch matrix, the hash of j computed in the 4
// lanes with the same u32 arithmetic as the reference (i32x4.mul is the low
// 32 bits of the product, as Math.imul), so the module keeps exactly the
// elements the reference keeps, on any split over threads. The kept values
// are one float32 product, A[j] scale, as in the reference on float32 arrays.
import { FMIX_M1, FMIX_M2, WEYL } from '../dropout.js';
import { overElements } from './elementwise-wat.js';

const i4 = (x: number): string => `(v128.const i32x4 ${x} ${x} ${x} ${x})`;

/** WAT statements: $h = fmix($h) in every lane. */
function fmixLanes(): string {
  const xorShift = (s: number): string => `(local.set $h (v128.xor (local.get $h) (i32x4.shr_u (local.get $h) (i32.const ${s}))))`;
  return `${xorShift(16)}
        (local.set $h (i32x4.mul (local.get $h) ${i4(FMIX_M1)}))
        ${xorShift(13)}
        (local.set $h (i32x4.mul (local.get $h) ${i4(FMIX_M2)}))
        ${xorShift(16)}`;
}

export function dropoutWat(): string {
  return `
  ;; out[j] = h(j) >= threshold (unsigned) ? A[j] scale : 0,  h(j) = fmix(fmix(j G + k1) ^ k2), j in [u0, u1)
  ${overElements('dropout', '(local $h v128)', ['A'],
    (store) => `(local.set $h (i32x4.add (i32x4.splat (i32.shr_u (local.get $o) (i32.const 2))) (v128.const i32x4 0 1 2 3)))
        (local.set $h (i32x4.add (i32x4.mul (local.get $h) ${i4(WEYL)}) (i32x4.splat (local.get $k1))))
        ${fmixLanes()}
        (local.set $h (v128.xor (local.get $h) (i32x4.splat (local.get $k2))))
        ${fmixLanes()}
        ${store('$out', `(v128.and
          (f32x4.mul (local.get $Av) (f32x4.splat (f32.reinterpret_i32 (local.get $scale))))
          (i32x4.ge_u (local.get $h) (i32x4.splat (local.get $threshold))))`)}`)}
`;
}
