// The WebAssembly text of the L2 term's work on the fast pass's weights
// (E_l2 = lambda/2 Σ w^2, dE_l2/dW = lambda W; src/objective/objective.ts),
// each on one W_l in the pass's working layout:
//
//   l2_grad  G += lambda W on the elements [u0, u1), as the reference
//            computes it in JavaScript, f32(double(g) + lambda double(w)):
//            promote, multiply by lambda (a float64), add, demote; the same
//            bits, and the same operations in the body and in the tail
//            (overElements), so any split over threads gives the same bits.
//   l2_sums  out[b] = Σ w^2 in float64 over block b, the floats
//            [b B, min(b B + B, n)) of W (B = L2_BLOCK), for the blocks
//            [u0, u1): eight running sums s_j (float j of each group of 8
//            into s_j, two f64x2 lanes per v128), added as
//            ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)), then the
//            floats after the last whole group (n mod 8, in a layer's last
//            block) one at a time. A block's sum depends on its floats alone,
//            so the caller's in-order sum of out[] is the same on any number
//            of threads. (A sequential sum over all of W, the reference's
//            order, is a chain of float64 additions, each waiting for the
//            last: 0.36 ms for 784 x 800 weights, against 0.08 ms for this
//            on one thread.)
//
// w^2 of a float32 w is exact in float64 (48 significant bits); only the
// additions round.
import { overElements } from './elementwise-wat.js';
import { f64Arg, watParams } from './signatures.js';

/** Floats of W per l2_sums block (a multiple of 8). */
export const L2_BLOCK = 4096;

/** WAT: the upper two float32 lanes of v128 local `v`, moved to the lower two. */
const high = (v: string): string => `(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get ${v}) (local.get ${v}))`;
/** WAT: the squares of the two lower float32 lanes of `x` (a v128 expression), in float64. */
const squares = (x: string): string => `(f64x2.mul (local.tee $t (f64x2.promote_low_f32x4 ${x})) (local.get $t))`;

/** WAT: the 8 floats at $p into the running sums $a0..$a3 (floats 2j, 2j+1 into $aj). */
function groupOf8(): string {
  const half = (at: number, lo: string, hi: string): string => `(local.set $v (v128.load offset=${at} (local.get $p)))
        (local.set ${lo} (f64x2.add (local.get ${lo}) ${squares('(local.get $v)')}))
        (local.set ${hi} (f64x2.add (local.get ${hi}) ${squares(high('$v'))}))`;
  return `${half(0, '$a0', '$a1')}
        ${half(16, '$a2', '$a3')}`;
}

/** WAT: l2_sums (see the head of the file). */
function sumsWat(): string {
  return `
  (func ${watParams('l2_sums')}
    (local $p i32) (local $end i32) (local $end8 i32) (local $x f64) (local $s f64)
    (local $v v128) (local $t v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $u0) (local.get $u1)))
      ;; floats [u0 B, min(u0 B + B, n)) of W, as byte addresses
      (local.set $p (i32.mul (local.get $u0) (i32.const ${L2_BLOCK})))
      (local.set $end (i32.add (local.get $p) (i32.const ${L2_BLOCK})))
      (local.set $end (select (local.get $end) (local.get $n) (i32.lt_u (local.get $end) (local.get $n))))
      (local.set $p (i32.add (local.get $W) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $end (i32.add (local.get $W) (i32.shl (local.get $end) (i32.const 2))))
      (local.set $end8 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $p)) (i32.const 31))))
      (local.set $a0 (v128.const f64x2 0 0))
      (local.set $a1 (local.get $a0))
      (local.set $a2 (local.get $a0))
      (local.set $a3 (local.get $a0))
      (block $done8 (loop $loop8
        (br_if $done8 (i32.ge_u (local.get $p) (local.get $end8)))
        ${groupOf8()}
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $loop8)))
      ;; (a0 + a1) + (a2 + a3), lane 0 + lane 1, then the tail
      (local.set $a0 (f64x2.add (f64x2.add (local.get $a0) (local.get $a1)) (f64x2.add (local.get $a2) (local.get $a3))))
      (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
      (block $done1 (loop $loop1
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f64.promote_f32 (f32.load (local.get $p))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (local.get $x))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $loop1)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $u0) (i32.const 3))) (local.get $s))
      (local.set $u0 (i32.add (local.get $u0) (i32.const 1)))
      (br $blocks)))
  )`;
}

export function l2Wat(): string {
  return `
  ;; l2_grad: G += lambda W in float64, elements [u0, u1)
  ${overElements('l2_grad', '(local $lam v128) (local $lo v128) (local $hi v128)', ['G', 'W'],
    (store) => `(local.set $lam (f64x2.splat ${f64Arg('lambda')}))
        (local.set $lo (f64x2.add (f64x2.promote_low_f32x4 (local.get $Gv))
          (f64x2.mul (local.get $lam) (f64x2.promote_low_f32x4 (local.get $Wv)))))
        (local.set $hi (f64x2.add (f64x2.promote_low_f32x4 ${high('$Gv')})
          (f64x2.mul (local.get $lam) (f64x2.promote_low_f32x4 ${high('$Wv')}))))
        ${store('$G', `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi)))`)}`)}
${sumsWat()}
`;
}
