// The WebAssembly text of the sparse first layer's forward product. MNIST
// pixels are 81% zero (155 of 784 per image on average), so Z = X W^T + b runs
// over a compressed (CSR) copy of the batch's rows, made once per batch:
//
//   spmm:  C[p, q] (+)= Σ_{e in row p} v_e · B[k_e, q]     (e: the non-zeros of row p, ascending k)
//   forward:  rows p = samples n, entries (X[n,k], k),  B = W^T [I, O],  C = Z (prefilled with b)
//
// Each C entry sums only the non-zero terms in ascending k, which is what the
// dense kernel does after skipping zeros: the result equals the dense sum bit
// for bit (a skipped term adds ±0). (The weight gradient X^T delta stays with
// gemm, whose packed panels of 4 pixels skip the samples where all 4 are 0:
// measured, it was as fast as spmm over X's columns, without building them.)
//
// CSR layout, in the shared memory: R[p] = byte address of row p's first
// entry (R has P + 1 words, R[P] = end); an entry is 8 bytes:
// [f32 value, i32 byte offset of its B row from B]. load_batch builds it
// while it converts a batch's pixel bytes to X; csr_rows from any X.
//
// Register tile: 1 row by 16 columns (4 f32x4 accumulators; per entry one
// broadcast load, 4 vector loads of B, 4 multiply-adds). Unlike a dense tile,
// a B row is used by one output row only, so the loop does a load per
// multiply-add and runs at about one multiply-add per cycle, half of gemm's
// rate; it wins by doing 19% of the dense work where gemm's 4-row panels do
// 39%. Measured alternatives, 128x784x800 on MNIST rows: 32 columns (8
// accumulators) and two interleaved chains of 16 spill in V8 (which hoists
// all B loads of an entry into registers) and ran 1.5x slower; two rows at a
// time on 12 columns (6 chains, no spills) ran no faster (load-bound).
// Columns are walked in tiles of 16 (then 8, then one at a time at the right
// edge); each C entry gets the same operations whichever column range a
// thread is given, provided ranges start at multiples of 16, so any split
// over threads gives the same bits.
import { madd } from './gemm-wat.js';

export const SPMM_TILE_Q = 16;
const VECS = SPMM_TILE_Q / 4;

/** WAT of one column-tile pass: for p in [p0, p1), C[p, qt .. qt + 4*vecs) over row p's entries. */
function tilePass(fma: boolean, vecs: number, tag: string): string {
  const v = Array.from({ length: vecs }, (_, j) => j);
  const init = v
    .map((j) => `(local.set $c${j} (if (result v128) (local.get $acc) (then (v128.load offset=${16 * j} (local.get $cq))) (else (v128.const i32x4 0 0 0 0))))`)
    .join('\n          ');
  const step = v
    .map((j) => `(local.set $c${j} ${madd(fma, '(local.get $a)', `(v128.load offset=${16 * j} (local.get $bk))`, `(local.get $c${j})`)})`)
    .join('\n            ');
  const store = v.map((j) => `(v128.store offset=${16 * j} (local.get $cq) (local.get $c${j}))`).join('\n          ');
  return `(local.set $p (local.get $p0))
      (block $${tag}pdone (loop $${tag}ploop
        (br_if $${tag}pdone (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $cq (i32.add (local.get $C) (i32.add (i32.mul (local.get $p) (local.get $ldc)) (i32.shl (local.get $qt) (i32.const 2)))))
          ${init}
        (local.set $e (i32.load (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $eend (i32.load offset=4 (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $bq (i32.add (local.get $B) (i32.shl (local.get $qt) (i32.const 2))))
        (block $${tag}edone (loop $${tag}eloop
          (br_if $${tag}edone (i32.ge_u (local.get $e) (local.get $eend)))
          (local.set $a (v128.load32_splat (local.get $e)))
          (local.set $bk (i32.add (local.get $bq) (i32.load offset=4 (local.get $e))))
            ${step}
          (local.set $e (i32.add (local.get $e) (i32.const 8)))
          (br $${tag}eloop)))
          ${store}
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $${tag}ploop)))`;
}

/** WAT: if pixels k..k+3 of the row exist and are all ±0, step past them (back to the top of $kloop). */
const skipZeroQuad = `(if (i32.lt_u (local.get $k) (local.get $K4)) (then
          (if (i32.eqz (v128.any_true (v128.and (v128.load (local.get $x)) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))) (then
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $kloop)))))`;

export function sparseWat(fma: boolean): string {
  const accLocals = Array.from({ length: VECS }, (_, j) => `(local $c${j} v128)`).join(' ');
  return `
  ;; C[p, q] (+)= sum over row p's CSR entries e: v_e * B[off_e + 4q], for p in [0, P) and the
  ;; columns of tiles [u0, u1) of ${SPMM_TILE_Q} (the last tile ends at Q). Pointers in bytes, ldc in floats.
  (func $spmm (export "spmm") (param $u0 i32) (param $u1 i32) (param $S i32)
    (param $C i32) (param $ldc i32) (param $R i32) (param $P i32) (param $B i32) (param $Q i32) (param $acc i32)
    (local $p0 i32) (local $p1 i32) (local $q1 i32) (local $qt i32) (local $p i32) (local $e i32) (local $eend i32)
    (local $cq i32) (local $bq i32) (local $bk i32) (local $s f32) (local $a v128) ${accLocals}
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $p0 (i32.const 0))
    (local.set $p1 (local.get $P))
    (local.set $qt (i32.mul (local.get $u0) (i32.const ${SPMM_TILE_Q})))
    (local.set $q1 (i32.mul (local.get $u1) (i32.const ${SPMM_TILE_Q})))
    (if (i32.gt_u (local.get $q1) (local.get $Q)) (then (local.set $q1 (local.get $Q))))
    ;; tiles of ${SPMM_TILE_Q} columns
    (block $tdone (loop $tloop
      (br_if $tdone (i32.gt_u (i32.add (local.get $qt) (i32.const ${SPMM_TILE_Q})) (local.get $q1)))
      ${tilePass(fma, VECS, 't')}
      (local.set $qt (i32.add (local.get $qt) (i32.const ${SPMM_TILE_Q})))
      (br $tloop)))
    ;; tiles of 8 columns
    (block $vdone (loop $vloop
      (br_if $vdone (i32.gt_u (i32.add (local.get $qt) (i32.const 8)) (local.get $q1)))
      ${tilePass(fma, 2, 'v')}
      (local.set $qt (i32.add (local.get $qt) (i32.const 8)))
      (br $vloop)))
    ;; the last columns one at a time
    (block $sdone (loop $sloop
      (br_if $sdone (i32.ge_u (local.get $qt) (local.get $q1)))
      (local.set $p (i32.const 0))
      (block $spdone (loop $sploop
        (br_if $spdone (i32.ge_u (local.get $p) (local.get $P)))
        (local.set $cq (i32.add (local.get $C) (i32.add (i32.mul (local.get $p) (local.get $ldc)) (i32.shl (local.get $qt) (i32.const 2)))))
        (local.set $s (if (result f32) (local.get $acc) (then (f32.load (local.get $cq))) (else (f32.const 0))))
        (local.set $e (i32.load (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $eend (i32.load offset=4 (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $bq (i32.add (local.get $B) (i32.shl (local.get $qt) (i32.const 2))))
        (block $sedone (loop $seloop
          (br_if $sedone (i32.ge_u (local.get $e) (local.get $eend)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $e))
            (f32.load (i32.add (local.get $bq) (i32.load offset=4 (local.get $e)))))))
          (local.set $e (i32.add (local.get $e) (i32.const 8)))
          (br $seloop)))
        (f32.store (local.get $cq) (local.get $s))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $sploop)))
      (local.set $qt (i32.add (local.get $qt) (i32.const 1)))
      (br $sloop)))
  )

  ;; A batch straight from the dataset's bytes: for n in [0, N), sample s = order[n] (i32 words
  ;; at $order) of images [., K] (bytes), X[n, k] = table[byte] (256 floats: the pixel scale), and
  ;; the row CSR of X as csr_rows makes it. Four zero bytes at a time are skipped.
  (func (export "load_batch") (param $X i32) (param $images i32) (param $order i32) (param $N i32) (param $K i32)
    (param $table i32) (param $ldb i32) (param $R i32) (param $E i32)
    (local $n i32) (local $k i32) (local $src i32) (local $x i32) (local $byte i32) (local $v f32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $n (i32.const 0))
    (block $ndone (loop $nloop
      (br_if $ndone (i32.ge_u (local.get $n) (local.get $N)))
      (i32.store (i32.add (local.get $R) (i32.shl (local.get $n) (i32.const 2))) (local.get $E))
      (local.set $src (i32.add (local.get $images)
        (i32.mul (i32.load (i32.add (local.get $order) (i32.shl (local.get $n) (i32.const 2)))) (local.get $K))))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $n) (local.get $K)) (i32.const 2))))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
        (if (i32.le_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)) (then
          (if (i32.eqz (i32.load (i32.add (local.get $src) (local.get $k)))) (then
            (v128.store (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))) (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $kloop)))))
        (local.set $byte (i32.load8_u (i32.add (local.get $src) (local.get $k))))
        (local.set $v (f32.load (i32.add (local.get $table) (i32.shl (local.get $byte) (i32.const 2)))))
        (f32.store (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))) (local.get $v))
        (if (local.get $byte) (then
          (f32.store (local.get $E) (local.get $v))
          (i32.store offset=4 (local.get $E) (i32.mul (local.get $k) (local.get $ldb)))
          (local.set $E (i32.add (local.get $E) (i32.const 8)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nloop)))
    (i32.store (i32.add (local.get $R) (i32.shl (local.get $N) (i32.const 2))) (local.get $E))
  )

  ;; Row CSR of X [N, K] (bytes; K in floats): R[n] for n in [0, N], entries (X[n,k], k * ldb) at E.
  ;; Four pixels at a time are tested for zero first (most groups are all zero).
  (func (export "csr_rows") (param $X i32) (param $N i32) (param $K i32) (param $ldb i32) (param $R i32) (param $E i32)
    (local $n i32) (local $k i32) (local $x i32) (local $v f32) (local $K4 i32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $K4 (i32.and (local.get $K) (i32.const -4)))
    (local.set $n (i32.const 0))
    (block $ndone (loop $nloop
      (br_if $ndone (i32.ge_u (local.get $n) (local.get $N)))
      (i32.store (i32.add (local.get $R) (i32.shl (local.get $n) (i32.const 2))) (local.get $E))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $n) (local.get $K)) (i32.const 2))))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
        ${skipZeroQuad}
        (local.set $v (f32.load (local.get $x)))
        (if (i32.and (i32.reinterpret_f32 (local.get $v)) (i32.const 0x7fffffff)) (then
          (f32.store (local.get $E) (local.get $v))
          (i32.store offset=4 (local.get $E) (i32.mul (local.get $k) (local.get $ldb)))
          (local.set $E (i32.add (local.get $E) (i32.const 8)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $kloop)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nloop)))
    (i32.store (i32.add (local.get $R) (i32.shl (local.get $N) (i32.const 2))) (local.get $E))
  )

`;
}
