// The WebAssembly text of the max-norm constraint (the reference is
// src/model/max-norm.ts): every unit's incoming weight vector w (a row of
// W_l [O, I], a column of the fast pass's W_l^T) with ||w|| > c becomes
// c w / ||w||. In the same arithmetic as the reference, so the bits are
// the reference's:
//
//   s = Σ_i w_i^2        in float64, i ascending (each w_i^2 of a float32 is exact)
//   ||w|| = sqrt(s);  if ||w|| > c:  w_i = float32(w_i (c / ||w||))    (float64 product, rounded once)
//
// c arrives as a float64 (two words). A vector is handled whole by one
// thread, so any split gives the same bits.
//
//   max_norm_cols     16 columns at a time of W^T [R, Q], row-major or in
//                     16-column panels (gemm-wat.ts: group g starts at g ps,
//                     rows ld floats apart): a row of a group is one 64-byte
//                     line, the 16 sums are 8 f64x2 lanes. Units: groups.
//   max_norm_vectors  one vector at a time, K elements `stride` floats apart,
//                     vector u at u `unit` floats (the narrow layers' rows,
//                     and the columns of a row-major W^T past its last full
//                     group). Units: vectors.
import { f64Arg, watParams } from './signatures.js';

const HIGH = '8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15'; // lanes 2, 3 of a f32x4 into lanes 0, 1
const LOWS = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23'; // lanes 0, 1 of two f32x4
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** WAT: the lanes 0, 1 (half 0) or 2, 3 (half 1) of the f32x4 $w as f64x2. */
const half = (h: number): string => (h === 0 ? '(f64x2.promote_low_f32x4 (local.get $w))' : `(f64x2.promote_low_f32x4 (i8x16.shuffle ${HIGH} (local.get $w) (local.get $w)))`);

/** WAT: a loop of $count steps (local $counter) from $start, $p the element's address advancing by $step, running `body`. */
function strideLoop(tag: string, counter: string, count: string, body: string): string {
  return `(local.set $p (local.get $start))
      (local.set $${counter} (local.get $${count}))
      (block $${tag}done (loop $${tag}loop
        (br_if $${tag}done (i32.eqz (local.get $${counter})))
        ${body}
        (local.set $p (i32.add (local.get $p) (local.get $step)))
        (local.set $${counter} (i32.sub (local.get $${counter}) (i32.const 1)))
        (br $${tag}loop)))`;
}

/** WAT: a loop over the R rows of a group from $start, $p the row's address. */
const rowLoop = (tag: string, body: string): string => strideLoop(tag, 'r', 'R', body);

function maxNormCols(): string {
  const sums = range(8).map((k) => `(local $s${k} v128)`).join(' ');
  const zero = range(8).map((k) => `(local.set $s${k} (v128.const i64x2 0 0))`).join(' ');
  const accumulate = range(4)
    .map((q) => `(local.set $w (v128.load offset=${16 * q} (local.get $p)))
        ${range(2).map((h) => `(local.set $x ${half(h)})
        (local.set $s${2 * q + h} (f64x2.add (local.get $s${2 * q + h}) (f64x2.mul (local.get $x) (local.get $x))))`).join('\n        ')}`)
    .join('\n        ');
  // s_k <- the factor of its two columns: c / ||w|| where ||w|| > c, else 1 (w * 1 is w, exactly)
  const factors = range(8)
    .map((k) => `(local.set $x (f64x2.sqrt (local.get $s${k})))
      (local.set $over (f64x2.gt (local.get $x) (local.get $c)))
      (local.set $any (v128.or (local.get $any) (local.get $over)))
      (local.set $s${k} (v128.bitselect (f64x2.div (local.get $c) (local.get $x)) (f64x2.splat (f64.const 1)) (local.get $over)))`)
    .join('\n      ');
  const rescale = range(4)
    .map((q) => `(local.set $w (v128.load offset=${16 * q} (local.get $p)))
        (v128.store offset=${16 * q} (local.get $p) (i8x16.shuffle ${LOWS}
          (f32x4.demote_f64x2_zero (f64x2.mul ${half(0)} (local.get $s${2 * q})))
          (f32x4.demote_f64x2_zero (f64x2.mul ${half(1)} (local.get $s${2 * q + 1})))))`)
    .join('\n        ');
  return `
  ;; max-norm on the column groups g in [u0, u1) of W^T [R, .] (16 columns each)
  (func ${watParams('max_norm_cols')}
    (local $g i32) (local $start i32) (local $p i32) (local $r i32) (local $step i32)
    (local $c v128) (local $w v128) (local $x v128) (local $over v128) (local $any v128) ${sums}
    (local.set $c (f64x2.splat ${f64Arg('c')}))
    (local.set $step (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $g (local.get $u0))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $g) (local.get $u1)))
      (local.set $start (i32.add (local.get $W) (i32.shl (i32.mul (local.get $g) (local.get $ps)) (i32.const 2))))
      ${zero}
      ${rowLoop('sum', accumulate)}
      (local.set $any (v128.const i64x2 0 0))
      ${factors}
      (if (v128.any_true (local.get $any)) (then
        ${rowLoop('scale', rescale)}))
      (local.set $g (i32.add (local.get $g) (i32.const 1)))
      (br $loop)))
  )`;
}

function maxNormVectors(): string {
  const element = '(f64.promote_f32 (f32.load (local.get $p)))';
  const loop = (tag: string, body: string): string => strideLoop(tag, 'i', 'K', body);
  return `
  ;; max-norm on the vectors u in [u0, u1): K elements stride floats apart, vector u at W + u unit floats
  (func ${watParams('max_norm_vectors')}
    (local $u i32) (local $start i32) (local $p i32) (local $i i32) (local $step i32)
    (local $c f64) (local $s f64) (local $x f64) (local $f f64)
    (local.set $c ${f64Arg('c')})
    (local.set $step (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $u (local.get $u0))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $u) (local.get $u1)))
      (local.set $start (i32.add (local.get $W) (i32.shl (i32.mul (local.get $u) (local.get $unit)) (i32.const 2))))
      (local.set $s (f64.const 0))
      ${loop('sum', `(local.set $x ${element})
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (local.get $x))))`)}
      (local.set $x (f64.sqrt (local.get $s)))
      (if (f64.gt (local.get $x) (local.get $c)) (then
        (local.set $f (f64.div (local.get $c) (local.get $x)))
        ${loop('scale', `(f32.store (local.get $p) (f32.demote_f64 (f64.mul ${element} (local.get $f))))`)}))
      (local.set $u (i32.add (local.get $u) (i32.const 1)))
      (br $loop)))
  )`;
}

export function maxNormWat(): string {
  return `${maxNormCols()}
${maxNormVectors()}
`;
}
