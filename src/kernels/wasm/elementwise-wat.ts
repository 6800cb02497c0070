// The WebAssembly text of a training step's element-wise work: the sigmoid,
// the softplus, relu and their derivatives, bias rows and bias gradients (column sums), row copies; the
// optimizers' updates (optimizers-wat.ts) are built with overElements below.
// In JavaScript these loops were a quarter of an epoch.
//
// Every function works on a range [u0, u1) of its units (elements, rows or
// columns) so the worker pool can split it; S (scratch) is unused here but
// keeps the pool's calling convention. Float arguments arrive as their i32
// bits (the pool passes i32 words). Each unit gets the same operations in
// the 4-lane body and in the one-at-a-time tail (the tail runs the same
// vector code on a splat), so any split gives the same bits.
import { madd } from './gemm-wat.js';
import { watParams, type FunctionName } from './signatures.js';

const f = (x: number): string => `(v128.const f32x4 ${x} ${x} ${x} ${x})`;

/**
 * WAT expression: e^x for each lane of `x` (a v128 expression), |rel. error|
 * about 2 ulp on [-87, 88] (Cephes expf: x = n ln2 + r with |r| <= ln2/2,
 * e^r by a degree-7 polynomial, times 2^n built in the exponent bits).
 * Lanes outside are clamped: e^x underflows to 2^-126, overflows to 2^127 e^0.3.
 *
 * Cheap forms of the steps, each exact: the clamp by pmin/pmax (one minps or
 * maxps; f32x4.min/max add NaN and -0 fix-ups we do not need, and a NaN lane
 * still stays NaN); n = round(x log2 e) by adding and subtracting 1.5 * 2^23,
 * which rounds to nearest-even like f32x4.nearest and leaves n + 127 in the
 * low bits of the sum, so 2^n needs no float-to-int conversion.
 */
const ROUND = 12582912; // 1.5 * 2^23: for |y| < 2^22, (y + ROUND) - ROUND = round(y), ties to even
const ROUND_BITS = 0x4b400000; // bits of ROUND: bits(y + ROUND) - ROUND_BITS = round(y)
function expLanes(fma: boolean, x: string): { stmts: string; value: string } {
  const m = (a: string, b: string, c: string): string => madd(fma, a, b, c);
  const stmts = `(local.set $x (f32x4.pmax (f32x4.pmin ${x} ${f(88.3)}) ${f(-87.3)}))
      (local.set $t (f32x4.add (f32x4.mul (local.get $x) ${f(1.4426950408889634)}) ${f(ROUND)}))
      (local.set $k (local.get $t))
      (local.set $n (f32x4.sub (local.get $t) ${f(ROUND)}))
      (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) ${f(0.693359375)}))
        (f32x4.mul (local.get $n) ${f(-2.12194440e-4)})))
      (local.set $t ${m(f(1.9875691500e-4), '(local.get $r)', f(1.3981999507e-3))})
      (local.set $t ${m('(local.get $t)', '(local.get $r)', f(8.3334519073e-3))})
      (local.set $t ${m('(local.get $t)', '(local.get $r)', f(4.1665795894e-2))})
      (local.set $t ${m('(local.get $t)', '(local.get $r)', f(1.6666665459e-1))})
      (local.set $t ${m('(local.get $t)', '(local.get $r)', f(5.0000001201e-1))})
      (local.set $t (f32x4.add ${m('(local.get $t)', '(f32x4.mul (local.get $r) (local.get $r))', '(local.get $r)')} ${f(1)}))`;
  // 2^n: the exponent field n + 127 = bits(k) - ROUND_BITS + 127, shifted into place
  const value = `(f32x4.mul (local.get $t)
        (i32x4.shl (i32x4.add (local.get $k) (v128.const i32x4 ${127 - ROUND_BITS} ${127 - ROUND_BITS} ${127 - ROUND_BITS} ${127 - ROUND_BITS})) (i32.const 23)))`;
  return { stmts, value };
}

type Store = (base: string, value: string) => string;

/** 1/3, 1/5, ..., 1/13: the series 2 atanh(s) = 2s (1 + s^2/3 + s^4/5 + ...), highest first for Horner. */
const ATANH_SERIES = [13, 11, 9, 7, 5, 3].map((d) => 1 / d);

/**
 * WAT body of softplus (activations.ts: a = max(z, 0) + ln(1 + w), w = e^-|z|
 * in (0, 1]). WebAssembly has no log: ln(1 + w) = 2 atanh(s) with
 * s = w / (2 + w) in (0, 1/3], and with q = s^2 <= 1/9
 *   2 atanh(s) = 2s + 2s q (1/3 + q/5 + ... + q^5/13) + 2s (q^7/15 + ...),
 * a tail below q^7/15 / (1 - q) <= 1.6e-8 relative, a quarter of float32's
 * 2^-24. Error budget for z <= 0 (a = ln(1 + w)): w's 2 ulp (expLanes), the
 * sum 2 + w and the quotient 1/2 ulp each, carried into 2 atanh(s) with a
 * factor <= 1.08 (s (atanh s)' / atanh s at s = 1/3), and the last
 * multiply-add: about 4.5 ulp; for z > 0 the sum z + ln(1 + w) >= the same
 * value adds 1/2 ulp. A NaN stays NaN (pmax keeps it), z = +inf gives +inf.
 */
function softplusBody(fma: boolean, store: Store): string {
  const m = (a: string, b: string, c: string): string => madd(fma, a, b, c);
  const e = expLanes(fma, '(f32x4.neg (f32x4.abs (local.get $Zv)))');
  const [first, ...rest] = ATANH_SERIES;
  const horner = rest.map((c) => `(local.set $t ${m('(local.get $t)', '(local.get $q)', f(c))})`).join('\n        ');
  return `${e.stmts}
        (local.set $w ${e.value})
        (local.set $s (f32x4.div (local.get $w) (f32x4.add ${f(2)} (local.get $w))))
        (local.set $q (f32x4.mul (local.get $s) (local.get $s)))
        (local.set $s (f32x4.add (local.get $s) (local.get $s)))
        (local.set $t ${f(first)})
        ${horner}
        ${store('$A', `(f32x4.add (f32x4.pmax (local.get $Zv) ${f(0)}) ${m('(f32x4.mul (local.get $s) (local.get $q))', '(local.get $t)', '(local.get $s)')})`)}`;
}

/**
 * WAT of an element-wise function over float indices [u0, u1): `body` gets a
 * `store(base, value)` and reads the v128 locals $<input>v, loaded from each
 * of `inputs` at the byte offset $o. The tail runs the same body on splats
 * and stores lane 0.
 */
export function overElements(name: FunctionName, locals: string, inputs: string[], body: (store: Store) => string): string {
  const load4 = inputs.map((p) => `(local.set $${p}v (v128.load (i32.add (local.get $${p}) (local.get $o))))`).join('\n        ');
  const load1 = inputs.map((p) => `(local.set $${p}v (v128.load32_splat (i32.add (local.get $${p}) (local.get $o))))`).join('\n        ');
  const vlocals = inputs.map((p) => `(local $${p}v v128)`).join(' ');
  const store4: Store = (base, value) => `(v128.store (i32.add (local.get ${base}) (local.get $o)) ${value})`;
  const store1: Store = (base, value) => `(v128.store32_lane 0 (i32.add (local.get ${base}) (local.get $o)) ${value})`;
  return `
  (func ${watParams(name)}
    (local $o i32) (local $end4 i32) (local $end i32) ${vlocals} ${locals}
    (local.set $o (i32.shl (local.get $u0) (i32.const 2)))
    (local.set $end (i32.shl (local.get $u1) (i32.const 2)))
    (local.set $end4 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $o)) (i32.const 15))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $o) (local.get $end4)))
        ${load4}
        ${body(store4)}
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $loop)))
    (block $tdone (loop $tloop
      (br_if $tdone (i32.ge_u (local.get $o) (local.get $end)))
        ${load1}
        ${body(store1)}
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $tloop)))
  )`;
}

/** WAT: one row's adds into db for the columns from $q, `width` (4 or 1) at a time while `width` remain before $u1. */
function rowIntoSums(width: 4 | 1): string {
  const [load, store, add] = width === 4 ? ['v128.load', 'v128.store', 'f32x4.add'] : ['f32.load', 'f32.store', 'f32.add'];
  return `(block $done${width} (loop $loop${width}
        (br_if $done${width} (i32.gt_u (i32.add (local.get $q) (i32.const ${width})) (local.get $u1)))
        (local.set $at (i32.add (local.get $db) (i32.shl (local.get $q) (i32.const 2))))
        (${store} (local.get $at) (${add} (${load} (local.get $at)) (${load} (i32.add (local.get $d) (i32.shl (local.get $q) (i32.const 2))))))
        (local.set $q (i32.add (local.get $q) (i32.const ${width})))
        (br $loop${width})))`;
}

export function elementwiseWat(fma: boolean): string {
  const expLocals = '(local $x v128) (local $n v128) (local $r v128) (local $t v128) (local $k v128)';
  return `
  ;; A = 1 / (1 + e^-Z), elements [u0, u1)
  ${overElements('sigmoid', expLocals, ['Z'],
    (store) => {
      const e = expLanes(fma, '(f32x4.neg (local.get $Zv))');
      return `${e.stmts}
        ${store('$A', `(f32x4.div ${f(1)} (f32x4.add ${f(1)} ${e.value}))`)}`;
    })}

  ;; dZ = dA * A * (1 - A), elements [u0, u1)
  ${overElements('sigmoid_backward', '', ['dA', 'A'],
    (store) => store('$dZ', `(f32x4.mul (f32x4.mul (local.get $dAv) (local.get $Av)) (f32x4.sub ${f(1)} (local.get $Av)))`))}

  ;; A = ln(1 + e^Z), elements [u0, u1)
  ${overElements('softplus', `${expLocals} (local $w v128) (local $s v128) (local $q v128)`, ['Z'], (store) => softplusBody(fma, store))}

  ;; dZ = dA * sigmoid(Z) = dA / (1 + e^-Z), elements [u0, u1): softplus' derivative, from the stored Z
  ${overElements('softplus_backward', expLocals, ['dA', 'Z'],
    (store) => {
      const e = expLanes(fma, '(f32x4.neg (local.get $Zv))');
      return `${e.stmts}
        ${store('$dZ', `(f32x4.div (local.get $dAv) (f32x4.add ${f(1)} ${e.value}))`)}`;
    })}

  ;; A = Z > 0 ? Z : 0, elements [u0, u1): activations.ts's reluForward bit for bit (a NaN or -0 gives +0),
  ;; by masking Z with the lanes' Z > 0 (f32x4.max would keep -0 and NaN)
  ${overElements('relu', '', ['Z'], (store) => store('$A', `(v128.and (local.get $Zv) (f32x4.gt (local.get $Zv) ${f(0)}))`))}

  ;; dZ = A > 0 ? dA : 0, elements [u0, u1): reluBackward, from the stored A
  ${overElements('relu_backward', '', ['dA', 'A'], (store) => store('$dZ', `(v128.and (local.get $dAv) (f32x4.gt (local.get $Av) ${f(0)}))`))}

  ;; Z[p, :] = b for the rows p in [u0, u1) of Z [., O]
  (func ${watParams('bias_rows')}
    (local.set $O (i32.shl (local.get $O) (i32.const 2)))
    (local.set $Z (i32.add (local.get $Z) (i32.mul (local.get $u0) (local.get $O))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $u0) (local.get $u1)))
      (memory.copy (local.get $Z) (local.get $b) (local.get $O))
      (local.set $Z (i32.add (local.get $Z) (local.get $O)))
      (local.set $u0 (i32.add (local.get $u0) (i32.const 1)))
      (br $loop)))
  )

  ;; dst[p, 0:cols] = src[p, 0:cols] for the rows p in [u0, u1); rows ldd and lds floats apart
  (func ${watParams('copy_rows')}
    (local.set $ldd (i32.shl (local.get $ldd) (i32.const 2)))
    (local.set $lds (i32.shl (local.get $lds) (i32.const 2)))
    (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $u0) (local.get $ldd))))
    (local.set $src (i32.add (local.get $src) (i32.mul (local.get $u0) (local.get $lds))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $u0) (local.get $u1)))
      (memory.copy (local.get $dst) (local.get $src) (i32.shl (local.get $cols) (i32.const 2)))
      (local.set $dst (i32.add (local.get $dst) (local.get $ldd)))
      (local.set $src (i32.add (local.get $src) (local.get $lds)))
      (local.set $u0 (i32.add (local.get $u0) (i32.const 1)))
      (br $loop)))
  )

  ;; db[q] = sum_n D[n, q] over n in [0, N) (ascending), for the columns q in [u0, u1) of D [N, O]:
  ;; row by row (D streams once, the sums stay in cache), 4 columns at a time, then one at a time
  (func ${watParams('col_sums')}
    (local $q i32) (local $n i32) (local $d i32) (local $at i32)
    (memory.fill (i32.add (local.get $db) (i32.shl (local.get $u0) (i32.const 2))) (i32.const 0) (i32.shl (i32.sub (local.get $u1) (local.get $u0)) (i32.const 2)))
    (local.set $d (local.get $D))
    (local.set $n (local.get $N))
    (block $ndone (loop $nloop
      (br_if $ndone (i32.eqz (local.get $n)))
      (local.set $q (local.get $u0))
      ${rowIntoSums(4)}
      ${rowIntoSums(1)}
      (local.set $d (i32.add (local.get $d) (i32.shl (local.get $O) (i32.const 2))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $nloop)))
  )
`;
}
