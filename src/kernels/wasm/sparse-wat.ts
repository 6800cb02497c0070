// The WebAssembly text of the sparse first layer's products. MNIST pixels are
// 81% zero (155 of 784 per image on average), so the first layer's products
// run over compressed (CSR) copies of the batch (csr-wat.ts builds them):
//
//   spmm:  C[p, q] (+)= Σ_e v_e(p) · B[k_e, q]      (e: the indices k where row p or its pair row is non-zero)
//   forward:        rows p = samples n, v = X[n, k],  B = W^T [I, O],  C = Z (prefilled with b)
//   weight grad:    rows p = pixels k,  v = X[n, k],  B = delta [N, O], C = dW^T [I, O]
//
// Rows go in pairs (2j, 2j + 1) sharing one entry list: an entry is
// [v(2j), v(2j+1), byte offset of B's row k], 12 bytes, for every k where
// either row is non-zero (for MNIST: 29% of the k for sample pairs, 22% for
// pixel pairs; 19% for single rows, 28% for the dense kernel's groups of 4
// pixels). R[j] = two words, the byte addresses of pair j's first entry and
// of the end of its entries.
//
// Batches up to 1024 rows (wasm-buffers.ts's SLOT_ROWS) get whole CSRs built
// first (csr_slots, a slot per pair), then spmm splits the columns over the
// threads. Larger (full)
// batches never hold a whole CSR: spmm_x (forward) and spmm_xt (weight
// gradient, called per block of samples) take X itself, and each thread
// builds the CSR of a block of pairs in its scratch and multiplies it at
// once, while it is in cache.
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
// over threads gives the same bits. The columns past the last 8 (4 at a
// time, then one at a time) sum with f32.mul then f32.add, except in spmm_xt,
// which gives them gemm's fused multiply-add where gemm does, so that it
// equals the gemm weight gradient large batches ran before it, bit for bit.
import { col, madd } from './gemm-wat.js';
import { csrWat, ENTRY } from './csr-wat.js';
import { watParams } from './signatures.js';

export const SPMM_TILE_Q = 16;
const VECS = SPMM_TILE_Q / 4;
/** Row pairs whose CSR spmm_x builds at a time (in the thread's scratch), and pixel pairs spmm_xt does. */
export const X_PAIRS = 32;
export const XT_PAIRS = 16;

/** Bytes of per-thread scratch spmm_x needs for rows of K values, and spmm_xt for blocks of N samples. */
export function sparseScratchBytes(K: number, N: number): number {
  return Math.max(X_PAIRS * (8 + ENTRY * K), XT_PAIRS * (8 + ENTRY * N));
}

/**
 * WAT of one column-tile pass: for the rows p in [$from, $to) (even), in
 * pairs p ($c accumulators) and p + 1 ($d), C[., qt .. qt + 4*vecs) over the
 * pair's entries (a second row at $p1 or past is not stored).
 */
function tilePass(fma: boolean, vecs: number, tag: string, from = '$p0', to = '$p1'): string {
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
  return `(local.set $p (local.get ${from}))
      (block $${tag}pdone (loop $${tag}ploop
        (br_if $${tag}pdone (i32.ge_u (local.get $p) (local.get ${to})))
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

/**
 * WAT of spmm_x or spmm_xt: over the pairs [u0, u1), `pairs` at a time,
 * `build` (a CSR block builder of csr-wat.ts, given `dims`) writes their CSR
 * into the scratch S (R words first, then the entries), then spmm_block
 * multiplies the rows [2 u0, min(2 j1, rows)) with all columns.
 */
function blockedProduct(name: 'spmm_x' | 'spmm_xt', pairs: number, build: string, dims: string, rows: string, fuse: string): string {
  return `(func ${watParams(name)}
    (local $j1 i32) (local $R i32)
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $u0) (local.get $u1)))
      (local.set $j1 (i32.add (local.get $u0) (i32.const ${pairs})))
      (if (i32.gt_u (local.get $j1) (local.get $u1)) (then (local.set $j1 (local.get $u1))))
      (local.set $R (i32.sub (local.get $S) (i32.shl (local.get $u0) (i32.const 3)))) ;; R[j] at R + 8 j: from S on
      (call ${build} (local.get $u0) (local.get $j1) (local.get $X) ${dims} (local.get $ldb) (local.get $R) (i32.add (local.get $S) (i32.const ${8 * pairs})))
      (call $spmm_block (local.get $C) (local.get $ldc) (local.get $cps) (local.get $R)
        (i32.shl (local.get $u0) (i32.const 1)) (call $min (i32.shl (local.get $j1) (i32.const 1)) ${rows})
        (local.get $B) (local.get $bps) (i32.const 0) (local.get $Q) (local.get $Q) (local.get $acc) ${fuse})
      (local.set $u0 (local.get $j1))
      (br $loop)))
  )`;
}

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
  ;; The pool's entries: spmm over the column tiles [u0, u1) of ${SPMM_TILE_Q} (all rows) of a built CSR.
  (func ${watParams('spmm')}
    (call $spmm_block (local.get $C) (local.get $ldc) (local.get $cps) (local.get $R) (i32.const 0) (local.get $P) (local.get $B) (local.get $bps)
      (i32.mul (local.get $u0) (i32.const ${SPMM_TILE_Q})) (i32.mul (local.get $u1) (i32.const ${SPMM_TILE_Q})) (local.get $Q) (local.get $acc) (i32.const 0))
  )

  ;; C [P, Q] (+)= X [P, K] B over the row pairs [u0, u1) (all columns), ${X_PAIRS} pairs at a time:
  ;; their CSR (B row offsets k ldb 4) into the scratch S, then the product.
  ${blockedProduct('spmm_x', X_PAIRS, '$csr_rows_block', '(local.get $K) (local.get $P)', '(local.get $P)', '(i32.const 0)')}

  ;; C [K, Q] (+)= X^T B for X [N, K], B [N, Q] (row stride ldb) over the column pairs [u0, u1) of X
  ;; (rows of C; all columns), ${XT_PAIRS} at a time: their CSR (B row offsets i ldb 4) into the scratch
  ;; S, then the product; the columns past the last 8 of rows below 4 floor(K / 4) by fused multiply-add.
  ${blockedProduct('spmm_xt', XT_PAIRS, '$csr_cols_block', '(local.get $K) (local.get $N)', '(local.get $K)', '(i32.and (local.get $K) (i32.const -4))')}

  (func $min (param $a i32) (param $b i32) (result i32)
    (select (local.get $a) (local.get $b) (i32.lt_u (local.get $a) (local.get $b)))
  )

  ;; C[p, q] (+)= sum over the entries e of p's row pair: v_e(p) * B[k_e, q], for the rows
  ;; p in [p0, p1) (p0 even) and the columns [qt, min(q1, Q)) (qt a multiple of ${SPMM_TILE_Q}).
  ;; B[k, q] at byte B + 4 ((q >> 4) bps + (q & 15)) + off_e (off_e = 4 k ldb: gemm-wat.ts's layouts,
  ;; row-major or 16-column panels), C[p, q] likewise (ldc, cps). Pointers in bytes, ldc, cps and
  ;; bps in floats. The columns past the last 8: rows p < fuse by fused multiply-add (both rows of
  ;; the pair in the lanes of one vector), the others by f32.mul then f32.add.
  (func $spmm_block
    (param $C i32) (param $ldc i32) (param $cps i32) (param $R i32) (param $p0 i32) (param $p1 i32) (param $B i32) (param $bps i32)
    (param $qt i32) (param $q1 i32) (param $Q i32) (param $acc i32) (param $fuse i32)
    (local $p i32) (local $pf i32) (local $e i32) (local $eend i32) (local $two i32)
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
    ;; 4 columns: the rows below $pf (fuse, within [p0, p1]) by fused multiply-add, the others by mul then add
    (if (i32.le_u (i32.add (local.get $qt) (i32.const 4)) (local.get $q1)) (then
      (local.set $pf (select (local.get $p1) (local.get $fuse) (i32.gt_u (local.get $fuse) (local.get $p1))))
      (local.set $pf (select (local.get $p0) (local.get $pf) (i32.lt_u (local.get $pf) (local.get $p0))))
      ${tilePass(fma, 1, 'f', '$p0', '$pf')}
      ${tilePass(false, 1, 'u', '$pf', '$p1')}
      (local.set $qt (i32.add (local.get $qt) (i32.const 4)))))
    ;; the last columns one at a time
    (block $sdone (loop $sloop
      (br_if $sdone (i32.ge_u (local.get $qt) (local.get $q1)))
      (local.set $p (local.get $p0))
      (block $spdone (loop $sploop
        (br_if $spdone (i32.ge_u (local.get $p) (local.get $p1)))
        ${pairSetup}
        (local.set $s (if (result f32) (local.get $acc) (then (f32.load (local.get $cq))) (else (f32.const 0))))
        (local.set $s2 (if (result f32) (i32.and (local.get $acc) (local.get $two)) (then (f32.load (local.get $dq))) (else (f32.const 0))))
        (if (i32.lt_u (local.get $p) (local.get $fuse))
          (then
            (local.set $a (f32x4.replace_lane 1 (f32x4.splat (local.get $s)) (local.get $s2)))
            (block $fedone (loop $feloop
              (br_if $fedone (i32.ge_u (local.get $e) (local.get $eend)))
              (local.set $a ${madd(fma, '(v128.load64_zero (local.get $e))', '(v128.load32_splat (i32.add (local.get $bq) (i32.load offset=8 (local.get $e))))', '(local.get $a)')})
              (local.set $e (i32.add (local.get $e) (i32.const ${ENTRY})))
              (br $feloop)))
            (local.set $s (f32x4.extract_lane 0 (local.get $a)))
            (local.set $s2 (f32x4.extract_lane 1 (local.get $a))))
          (else
            (block $sedone (loop $seloop
              (br_if $sedone (i32.ge_u (local.get $e) (local.get $eend)))
              (local.set $bk (i32.add (local.get $bq) (i32.load offset=8 (local.get $e))))
              (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $e)) (f32.load (local.get $bk)))))
              (local.set $s2 (f32.add (local.get $s2) (f32.mul (f32.load offset=4 (local.get $e)) (f32.load (local.get $bk)))))
              (local.set $e (i32.add (local.get $e) (i32.const ${ENTRY})))
              (br $seloop)))))
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
${csrWat()}`;
}
