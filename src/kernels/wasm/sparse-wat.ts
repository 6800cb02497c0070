// The WebAssembly text of the sparse first layer's forward product. MNIST
// pixels are 81% zero (155 of 784 per image on average), so Z = X W^T + b runs
// over a compressed (CSR) copy of the batch, made once per batch:
//
//   spmm:  C[p, q] (+)= Σ_e v_e(p) · B[k_e, q]      (e: the pixel indices k where row p or its pair row is non-zero)
//   forward:  rows p = samples n, v = X[n, k],  B = W^T [I, O],  C = Z (prefilled with b)
//
// Rows go in pairs (2j, 2j + 1) sharing one entry list: an entry is
// [X[2j, k], X[2j+1, k], byte offset of B's row k], 12 bytes, for every k
// where either row is non-zero (29% of the k for MNIST pairs; 19% for single
// rows, 39% for the dense kernel's groups of 4). R[j] = two words, the byte
// addresses of pair j's first entry and of the end of its entries;
// csr_pairs builds it from X, compact; csr_slots from the rows or the columns
// of X (X^T's rows, for the weight gradient X^T delta, whose rows are pixels),
// each pair in a slot of its own, on every thread.
//
// Each C entry sums its non-zero terms in ascending k, plus terms 0 * b that
// leave the sum unchanged: the result equals the dense sum bit for bit.
//
// Register tile: 2 rows by 16 columns (8 f32x4 accumulators, 2 broadcast
// values, one B vector at a time: per entry 4 vector loads of B feed 8
// multiply-adds). Measured on 128x784x800 with MNIST rows (this machine):
// one row by 16 columns ran one multiply-add per cycle (a B load for each,
// since a B row serves one output row), as fast as the dense kernel; 32
// columns, or two chains of 16, spilled in V8 (which hoists all B loads of
// an entry into registers) and ran 1.5x slower; two rows by 12 columns on
// separate lists ran no faster than one.
// Columns are walked in tiles of 16 (then 8, then one at a time at the right
// edge); each C entry gets the same operations whichever column range a
// thread is given, provided ranges start at multiples of 16, so any split
// over threads gives the same bits.
import { col, madd } from './gemm-wat.js';
import { watParams } from './signatures.js';

export const SPMM_TILE_Q = 16;
const VECS = SPMM_TILE_Q / 4;

/**
 * WAT of one column-tile pass: for the row pairs j in [0, ceil(P/2)), rows
 * p = 2j ($c accumulators) and p + 1 ($d), C[., qt .. qt + 4*vecs) over the
 * pair's entries (a second row past P reads zeros and is not stored).
 */
function tilePass(fma: boolean, vecs: number, tag: string): string {
  const v = Array.from({ length: vecs }, (_, j) => j);
  const init = v
    .map((j) => `(local.set $c${j} (if (result v128) (local.get $acc) (then (v128.load offset=${16 * j} (local.get $cq))) (else (v128.const i32x4 0 0 0 0))))
          (local.set $d${j} (if (result v128) (i32.and (local.get $acc) (local.get $two)) (then (v128.load offset=${16 * j} (local.get $dq))) (else (v128.const i32x4 0 0 0 0))))`)
    .join('\n          ');
  const step = v
    .map((j) => `(local.set $b (v128.load offset=${16 * j} (local.get $bk)))
            (local.set $c${j} ${madd(fma, '(local.get $a)', '(local.get $b)', `(local.get $c${j})`)})
            (local.set $d${j} ${madd(fma, '(local.get $a2)', '(local.get $b)', `(local.get $d${j})`)})`)
    .join('\n            ');
  const storeC = v.map((j) => `(v128.store offset=${16 * j} (local.get $cq) (local.get $c${j}))`).join('\n          ');
  const storeD = v.map((j) => `(v128.store offset=${16 * j} (local.get $dq) (local.get $d${j}))`).join('\n            ');
  return `(local.set $p (local.get $p0))
      (block $${tag}pdone (loop $${tag}ploop
        (br_if $${tag}pdone (i32.ge_u (local.get $p) (local.get $p1)))
        ${pairSetup}
          ${init}
        (block $${tag}edone (loop $${tag}eloop
          (br_if $${tag}edone (i32.ge_u (local.get $e) (local.get $eend)))
          (local.set $a (v128.load32_splat (local.get $e)))
          (local.set $a2 (v128.load32_splat offset=4 (local.get $e)))
          (local.set $bk (i32.add (local.get $bq) (i32.load offset=8 (local.get $e))))
            ${step}
          (local.set $e (i32.add (local.get $e) (i32.const ${ENTRY})))
          (br $${tag}eloop)))
          ${storeC}
        (if (local.get $two) (then
            ${storeD}))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $${tag}ploop)))`;
}

/** Bytes of a CSR entry: the two rows' values and the byte offset of the B row. */
const ENTRY = 12;

/** WAT: for the pair at row $p and column $qt: $two, the C rows $cq/$dq, the entries [$e, $eend), $bq. */
const pairSetup = `(local.set $two (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $p1)))
        (local.set $cq (i32.add ${col('(local.get $C)', '(local.get $qt)', '(local.get $cps)')} (i32.mul (local.get $p) (local.get $ldc))))
        (local.set $dq (i32.add (local.get $cq) (local.get $ldc)))
        (local.set $e (i32.load (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $eend (i32.load offset=4 (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $bq ${col('(local.get $B)', '(local.get $qt)', '(local.get $bps)')})`;

export function sparseWat(fma: boolean): string {
  const accLocals = Array.from({ length: VECS }, (_, j) => `(local $c${j} v128) (local $d${j} v128)`).join(' ');
  return `
  ;; The pool's entries: spmm over the column tiles [u0, u1) of ${SPMM_TILE_Q} (all rows), spmm_rows
  ;; over the row pairs [u0, u1) (all columns: for batches whose CSR would not stay in cache).
  (func ${watParams('spmm')}
    (call $spmm_block (local.get $C) (local.get $ldc) (local.get $cps) (local.get $R) (i32.const 0) (local.get $P) (local.get $B) (local.get $bps)
      (i32.mul (local.get $u0) (i32.const ${SPMM_TILE_Q})) (i32.mul (local.get $u1) (i32.const ${SPMM_TILE_Q})) (local.get $Q) (local.get $acc))
  )
  (func ${watParams('spmm_rows')}
    (call $spmm_block (local.get $C) (local.get $ldc) (local.get $cps) (local.get $R)
      (i32.shl (local.get $u0) (i32.const 1)) (select (local.get $P) (i32.shl (local.get $u1) (i32.const 1)) (i32.gt_u (i32.shl (local.get $u1) (i32.const 1)) (local.get $P)))
      (local.get $B) (local.get $bps) (i32.const 0) (local.get $Q) (local.get $Q) (local.get $acc))
  )

  ;; C[p, q] (+)= sum over the entries e of p's row pair: v_e(p) * B[k_e, q], for the rows
  ;; p in [p0, p1) (p0 even) and the columns [qt, min(q1, Q)) (qt a multiple of ${SPMM_TILE_Q}).
  ;; B[k, q] at byte B + 4 ((q >> 4) bps + (q & 15)) + off_e (off_e = 4 k ldb: gemm-wat.ts's layouts,
  ;; row-major or 16-column panels), C[p, q] likewise (ldc, cps). Pointers in bytes, ldc, cps and
  ;; bps in floats.
  (func $spmm_block
    (param $C i32) (param $ldc i32) (param $cps i32) (param $R i32) (param $p0 i32) (param $p1 i32) (param $B i32) (param $bps i32)
    (param $qt i32) (param $q1 i32) (param $Q i32) (param $acc i32)
    (local $p i32) (local $e i32) (local $eend i32) (local $two i32)
    (local $cq i32) (local $dq i32) (local $bq i32) (local $bk i32) (local $s f32) (local $s2 f32) (local $b v128) (local $a v128) (local $a2 v128) ${accLocals}
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $bps (i32.shl (local.get $bps) (i32.const 2)))
    (local.set $cps (i32.shl (local.get $cps) (i32.const 2)))
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
      (local.set $p (local.get $p0))
      (block $spdone (loop $sploop
        (br_if $spdone (i32.ge_u (local.get $p) (local.get $p1)))
        ${pairSetup}
        (local.set $s (if (result f32) (local.get $acc) (then (f32.load (local.get $cq))) (else (f32.const 0))))
        (local.set $s2 (if (result f32) (i32.and (local.get $acc) (local.get $two)) (then (f32.load (local.get $dq))) (else (f32.const 0))))
        (block $sedone (loop $seloop
          (br_if $sedone (i32.ge_u (local.get $e) (local.get $eend)))
          (local.set $bk (i32.add (local.get $bq) (i32.load offset=8 (local.get $e))))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $e)) (f32.load (local.get $bk)))))
          (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load offset=4 (local.get $e)) (f32.load (local.get $bk)))))
          (local.set $e (i32.add (local.get $e) (i32.const ${ENTRY})))
          (br $seloop)))
        (f32.store (local.get $cq) (local.get $s))
        (if (local.get $two) (then (f32.store (local.get $dq) (local.get $s2))))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $sploop)))
      (local.set $qt (i32.add (local.get $qt) (i32.const 1)))
      (br $sloop)))
  )

  ;; A batch straight from the dataset's bytes: for the rows n in [u0, u1) (a pool entry; S unused),
  ;; sample s = order[n] (i32 words at $order) of images [., K] (bytes), X[n, k] = table[byte]
  ;; (256 floats: the pixel scale). Four zero bytes at a time become four zeros at once.
  (func ${watParams('load_batch')}
    (local $n i32) (local $k i32) (local $src i32) (local $x i32)
    (local.set $n (local.get $u0))
    (block $ndone (loop $nloop
      (br_if $ndone (i32.ge_u (local.get $n) (local.get $u1)))
      (local.set $src (i32.add (local.get $images)
        (i32.mul (i32.load (i32.add (local.get $order) (i32.shl (local.get $n) (i32.const 2)))) (local.get $K))))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $n) (local.get $K)) (i32.const 2))))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
        (if (i32.and (i32.le_u (i32.add (local.get $k) (i32.const 4)) (local.get $K))
                     (i32.eqz (i32.load (i32.add (local.get $src) (local.get $k))))) (then
          (v128.store (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))) (v128.const i32x4 0 0 0 0))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $kloop)))
        (f32.store (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))
          (f32.load (i32.add (local.get $table) (i32.shl (i32.load8_u (i32.add (local.get $src) (local.get $k))) (i32.const 2)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nloop)))
  )

  ;; The CSR of X [N, K]'s row pairs (K in floats): R[j] for j in [0, ceil(N/2)], the byte
  ;; address of pair j's first entry; one ${ENTRY}-byte entry (X[2j, k], X[2j+1, k], k * ldb * 4)
  ;; per k where either is non-zero (a missing row 2j+1 reads as zeros). Four k at a time are
  ;; tested for zero first.
  (func ${watParams('csr_pairs')}
    (local $p i32) (local $k i32) (local $x i32) (local $y i32) (local $K4 i32) (local $two i32) (local $v f32) (local $w f32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $K4 (i32.and (local.get $K) (i32.const -4)))
    (local.set $p (i32.const 0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $N)))
      (i32.store (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2))) (local.get $E))
      (local.set $two (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $N)))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (local.get $p) (local.get $K)) (i32.const 2))))
      ;; the second row, or the first again when there is none (its values are then taken as 0)
      (local.set $y (select (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))) (local.get $x) (local.get $two)))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
        (if (i32.lt_u (local.get $k) (local.get $K4)) (then
          (if (i32.eqz (v128.any_true (v128.and (v128.or (v128.load (local.get $x)) (v128.load (local.get $y)))
                (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))) (then
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (br $kloop)))))
        (local.set $v (f32.load (local.get $x)))
        (local.set $w (select (f32.load (local.get $y)) (f32.const 0) (local.get $two)))
        (if (i32.and (i32.or (i32.reinterpret_f32 (local.get $v)) (i32.reinterpret_f32 (local.get $w))) (i32.const 0x7fffffff)) (then
          (f32.store (local.get $E) (local.get $v))
          (f32.store offset=4 (local.get $E) (local.get $w))
          (i32.store offset=8 (local.get $E) (i32.mul (local.get $k) (local.get $ldb)))
          (local.set $E (i32.add (local.get $E) (i32.const ${ENTRY})))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $kloop)))
      (i32.store offset=4 (i32.add (local.get $R) (i32.shl (local.get $p) (i32.const 2))) (local.get $E))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $ploop)))
  )

  ;; The same CSR with a slot of entries per pair, built in parallel (a pool entry over the pairs
  ;; j in [u0, u1); S unused) and without a branch to mispredict: every entry is written, and the
  ;; end advances only past the non-zero ones. Strides in bytes, so one function serves
  ;;   the row pairs of X [N, K]:     count K, step 4, second 4K, pair 8K, total N
  ;;   the column pairs (X^T's rows): count N, step 4K, second 4, pair 8, total K
  ;; Pair j's first value is at X + j pair, its second one $second bytes further (none when 2j+1 = total);
  ;; its entries (v, w, i * ldb * 4) for i < count go in its slot at E + 12 count j; R[j] holds the
  ;; slot's start and end.
  (func ${watParams('csr_slots')}
    (local $j i32) (local $i i32) (local $x i32) (local $y i32) (local $e i32) (local $off i32) (local $two i32) (local $v f32) (local $w f32)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $j (local.get $u0))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $u1)))
      (local.set $two (i32.lt_u (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 1)) (local.get $total)))
      (local.set $x (i32.add (local.get $X) (i32.mul (local.get $j) (local.get $pair))))
      ;; the second value's address, or the first's again when there is none (read, then replaced by 0)
      (local.set $y (select (i32.add (local.get $x) (local.get $second)) (local.get $x) (local.get $two)))
      (local.set $e (i32.add (local.get $E) (i32.mul (local.get $j) (i32.mul (local.get $count) (i32.const ${ENTRY})))))
      (i32.store (i32.add (local.get $R) (i32.shl (local.get $j) (i32.const 3))) (local.get $e))
      (local.set $off (i32.const 0))
      (local.set $i (local.get $count))
      (block $idone (loop $iloop
        (br_if $idone (i32.eqz (local.get $i)))
        (local.set $v (f32.load (local.get $x)))
        (local.set $w (select (f32.load (local.get $y)) (f32.const 0) (local.get $two)))
        (f32.store (local.get $e) (local.get $v))
        (f32.store offset=4 (local.get $e) (local.get $w))
        (i32.store offset=8 (local.get $e) (local.get $off))
        (local.set $e (i32.add (local.get $e) (i32.and (i32.const ${ENTRY}) (i32.sub (i32.const 0)
          (i32.ne (i32.const 0) (i32.and (i32.or (i32.reinterpret_f32 (local.get $v)) (i32.reinterpret_f32 (local.get $w))) (i32.const 0x7fffffff)))))))
        (local.set $x (i32.add (local.get $x) (local.get $step)))
        (local.set $y (i32.add (local.get $y) (local.get $step)))
        (local.set $off (i32.add (local.get $off) (local.get $ldb)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $iloop)))
      (i32.store offset=4 (i32.add (local.get $R) (i32.shl (local.get $j) (i32.const 3))) (local.get $e))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jloop)))
  )
`;
}
