// The WebAssembly text of the forward product of a narrow layer (the 10
// outputs), whose W stays [O, I] row-major as in Mlp:
//
//   dot_rows:  C[p, o] += Σ_k A[p, k] · W[o, k]      rows p in [u0, u1), every o < O
//
// (C = Z prefilled with b). Each C entry is a dot product of two contiguous
// rows, so the k run along the vector lanes: register tile 2 rows x 4 outputs,
// 8 f32x4 accumulators; per 4 k, 2 loads of A and 4 of W feed 8 multiply-adds.
// Then each accumulator's lanes are summed ((l0 + l1) + (l2 + l3)), the k past
// the last multiple of 4 are added one at a time, and the result is added to C.
// Through gemm (W^T [I, 10]: 8 columns in the tile, 2 in a latency-bound
// column loop, and every row panel packed) this product took 4x longer.
//
// Rows go in pairs from u0 (an odd last row alone), outputs in groups of 4
// (then the 1-3 left): every C entry gets the same operations whatever the
// row range, provided ranges start at even rows.
import { madd } from './gemm-wat.js';
import { watParams } from './signatures.js';

/** WAT: C[p .. p+rows-1, o .. o+outs-1] += the dot products, for rows 1-2 and outs 1-4. */
function tile(fma: boolean, rows: number, outs: number): string {
  const R = Array.from({ length: rows }, (_, r) => r);
  const Q = Array.from({ length: outs }, (_, j) => j);
  const zero = R.flatMap((r) => Q.map((j) => `(local.set $c${r}${j} (v128.const i32x4 0 0 0 0))`)).join('\n        ');
  const step = [
    ...R.map((r) => `(local.set $a${r} (v128.load (i32.add (local.get $ar${r}) (local.get $k))))`),
    ...Q.map((j) => `(local.set $w (v128.load (i32.add (local.get $wr${j}) (local.get $k))))
          ${R.map((r) => `(local.set $c${r}${j} ${madd(fma, `(local.get $a${r})`, '(local.get $w)', `(local.get $c${r}${j})`)})`).join('\n          ')}`),
  ].join('\n          ');
  const finish = R.flatMap((r) =>
    Q.map((j) => `(local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $c${r}${j})) (f32x4.extract_lane 1 (local.get $c${r}${j})))
          (f32.add (f32x4.extract_lane 2 (local.get $c${r}${j})) (f32x4.extract_lane 3 (local.get $c${r}${j})))))
        (local.set $k (local.get $K4b))
        (block $t${r}${j}done (loop $t${r}${j}loop
          (br_if $t${r}${j}done (i32.ge_u (local.get $k) (local.get $Kb)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $ar${r}) (local.get $k))) (f32.load (i32.add (local.get $wr${j}) (local.get $k))))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $t${r}${j}loop)))
        (local.set $cp (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (i32.add (local.get $p) (i32.const ${r})) (local.get $O)) (i32.add (local.get $o) (i32.const ${j}))) (i32.const 2))))
        (f32.store (local.get $cp) (f32.add (f32.load (local.get $cp)) (local.get $s)))`),
  ).join('\n        ');
  return `(block
        ${R.map((r) => `(local.set $ar${r} (i32.add (local.get $A) (i32.mul (i32.add (local.get $p) (i32.const ${r})) (local.get $Kb))))`).join('\n        ')}
        ${Q.map((j) => `(local.set $wr${j} (i32.add (local.get $W) (i32.mul (i32.add (local.get $o) (i32.const ${j})) (local.get $Kb))))`).join('\n        ')}
        ${zero}
        (local.set $k (i32.const 0))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.ge_u (local.get $k) (local.get $K4b)))
          ${step}
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $kloop)))
        ${finish})`;
}

export function dotWat(fma: boolean): string {
  const acc = [0, 1].flatMap((r) => [0, 1, 2, 3].map((j) => `(local $c${r}${j} v128)`)).join(' ');
  // outputs o .. o + min(4, O - o) for `rows` rows at $p
  const group = (rows: number): string => `(block $o${rows}done (loop $o${rows}loop
        (br_if $o${rows}done (i32.ge_u (local.get $o) (local.get $O)))
        (if (i32.ge_u (i32.sub (local.get $O) (local.get $o)) (i32.const 4)) (then ${tile(fma, rows, 4)})
        (else (if (i32.eq (i32.sub (local.get $O) (local.get $o)) (i32.const 3)) (then ${tile(fma, rows, 3)})
        (else (if (i32.eq (i32.sub (local.get $O) (local.get $o)) (i32.const 2)) (then ${tile(fma, rows, 2)})
        (else ${tile(fma, rows, 1)}))))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br $o${rows}loop)))`;
  return `
  ;; C[p, o] += sum_k A[p, k] W[o, k] for the rows p in [u0, u1) of A [., K] and C [., O],
  ;; W [O, K]; pointers in bytes. S unused (the pool's calling convention).
  (func ${watParams('dot_rows')}
    (local $p i32) (local $o i32) (local $k i32) (local $K4b i32) (local $Kb i32) (local $cp i32) (local $s f32)
    (local $ar0 i32) (local $ar1 i32) (local $wr0 i32) (local $wr1 i32) (local $wr2 i32) (local $wr3 i32)
    (local $a0 v128) (local $a1 v128) (local $w v128) ${acc}
    (local.set $Kb (i32.shl (local.get $K) (i32.const 2)))
    (local.set $K4b (i32.shl (i32.and (local.get $K) (i32.const -4)) (i32.const 2)))
    (local.set $p (local.get $u0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $u1)))
      (local.set $o (i32.const 0))
      ${group(2)}
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $ploop)))
    (if (i32.lt_u (local.get $p) (local.get $u1)) (then
      (local.set $o (i32.const 0))
      ${group(1)}))
  )
`;
}
