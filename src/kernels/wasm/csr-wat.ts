// The WebAssembly text of the CSR builders of the sparse first layer
// (sparse-wat.ts has the format and the products). An entry is 12 bytes:
// [first value, second value, byte offset of the B row]; R[j] is two words,
// the byte addresses of pair j's first entry and of the end of its entries.
// A pair gets an entry where either of its values is non-zero (the sign bit
// aside: -0 is zero), so every builder gives the same entries for a pair.
//
//   csr_pairs        X's row pairs, compact, on one thread: the reference
//   csr_slots        X's row or column pairs, a slot of entries per pair, on every thread
//   $csr_rows_block  X's row pairs [j0, j1), compact from E (spmm_x builds a block per call)
//   $csr_cols_block  X's column (pixel) pairs [j0, j1), compact from E (spmm_xt)
//
// The block builders write every entry and advance past the non-zero ones
// only (no branch to mispredict); the row builder first tests 4 columns of the
// pair at once and skips them when all are zero (MNIST rows are 81% zero,
// much of it in runs). On a full batch they run at about the speed of reading
// X from memory (testing 16 columns at once gained 2%).
import { watParams } from './signatures.js';

/** Bytes of a CSR entry: the two values and the byte offset of the B row. */
export const ENTRY = 12;

const ABS = '(v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)';

/** WAT: entry for lane l of the 4 columns in $v, $w ($nz: 12 in the lanes that are entries, else 0), B row offset $off + l ldb. */
function laneEntry(l: number): string {
  const off = l === 0 ? '(local.get $off)' : `(i32.add (local.get $off) (local.get $ldb${l}))`;
  return `(f32.store (local.get $E) (f32x4.extract_lane ${l} (local.get $v)))
            (f32.store offset=4 (local.get $E) (f32x4.extract_lane ${l} (local.get $w)))
            (i32.store offset=8 (local.get $E) ${off})
            (local.set $E (i32.add (local.get $E) (i32x4.extract_lane ${l} (local.get $nz))))`;
}

/** WAT: the block builders, internal functions of the module (spmm_x and spmm_xt call them). */
function blockBuilders(): string {
  return `
  ;; The row pairs j in [j0, j1) of X [P, K] (K in floats): entries (X[2j, k], X[2j+1, k], k ldb 4)
  ;; compact from E (a missing row 2j+1 reads as zeros), R[j] at R + 8 j.
  (func $csr_rows_block (param $j i32) (param $j1 i32) (param $X i32) (param $K i32) (param $P i32) (param $ldb i32) (param $R i32) (param $E i32)
    (local $k i32) (local $K4 i32) (local $x i32) (local $y i32) (local $r i32) (local $two i32) (local $off i32)
    (local $ldb1 i32) (local $ldb2 i32) (local $ldb3 i32) (local $ldb4 i32) (local $s i32) (local $vs f32) (local $ws f32)
    (local $mask v128) (local $v v128) (local $w v128) (local $nz v128)
    (local.set $ldb1 (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldb2 (i32.shl (local.get $ldb) (i32.const 3)))
    (local.set $ldb3 (i32.mul (local.get $ldb1) (i32.const 3)))
    (local.set $ldb4 (i32.shl (local.get $ldb) (i32.const 4)))
    (local.set $K4 (i32.and (local.get $K) (i32.const -4)))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $j1)))
      (local.set $r (i32.add (local.get $R) (i32.shl (local.get $j) (i32.const 3))))
      (i32.store (local.get $r) (local.get $E))
      (local.set $two (i32.lt_u (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 1)) (local.get $P)))
      (local.set $x (i32.add (local.get $X) (i32.shl (i32.mul (i32.shl (local.get $j) (i32.const 1)) (local.get $K)) (i32.const 2))))
      ;; the second row, or the first again with its values masked to 0 when there is none
      (local.set $y (select (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))) (local.get $x) (local.get $two)))
      (local.set $mask (i32x4.splat (i32.sub (i32.const 0) (local.get $two))))
      (local.set $off (i32.const 0))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $K4)))
        (local.set $v (v128.load (local.get $x)))
        (local.set $w (v128.and (v128.load (local.get $y)) (local.get $mask)))
        (local.set $nz (v128.and (i32x4.ne (v128.and (v128.or (local.get $v) (local.get $w)) ${ABS}) (v128.const i32x4 0 0 0 0))
          (v128.const i32x4 ${ENTRY} ${ENTRY} ${ENTRY} ${ENTRY})))
        (if (v128.any_true (local.get $nz)) (then
            ${laneEntry(0)}
            ${laneEntry(1)}
            ${laneEntry(2)}
            ${laneEntry(3)}))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (local.set $off (i32.add (local.get $off) (local.get $ldb4)))
        (br $kloop)))
      ;; the last K mod 4 columns one at a time
      (block $tdone (loop $tloop
        (br_if $tdone (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $vs (f32.load (local.get $x)))
        (local.set $ws (select (f32.load (local.get $y)) (f32.const 0) (local.get $two)))
        (f32.store (local.get $E) (local.get $vs))
        (f32.store offset=4 (local.get $E) (local.get $ws))
        (i32.store offset=8 (local.get $E) (local.get $off))
        (local.set $s (i32.and (i32.or (i32.reinterpret_f32 (local.get $vs)) (i32.reinterpret_f32 (local.get $ws))) (i32.const 0x7fffffff)))
        (local.set $E (i32.add (local.get $E) (select (i32.const ${ENTRY}) (i32.const 0) (local.get $s))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (local.set $off (i32.add (local.get $off) (local.get $ldb1)))
        (br $tloop)))
      (i32.store offset=4 (local.get $r) (local.get $E))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jloop)))
  )

  ;; The column (pixel) pairs j in [j0, j1) of X [N, K] (K in floats): entries (X[i, 2j], X[i, 2j+1], i ldb 4)
  ;; for the rows i in [0, N), compact from E (a missing column 2j+1 reads as zeros), R[j] at R + 8 j.
  ;; A pair's two values are adjacent: one 8-byte load and store carries both.
  (func $csr_cols_block (param $j i32) (param $j1 i32) (param $X i32) (param $K i32) (param $N i32) (param $ldb i32) (param $R i32) (param $E i32)
    (local $i i32) (local $x i32) (local $r i32) (local $off i32) (local $row i32) (local $vw i64) (local $mask i64)
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $row (i32.shl (local.get $K) (i32.const 2)))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $j1)))
      (local.set $r (i32.add (local.get $R) (i32.shl (local.get $j) (i32.const 3))))
      (i32.store (local.get $r) (local.get $E))
      (local.set $x (i32.add (local.get $X) (i32.shl (local.get $j) (i32.const 3))))
      (local.set $off (i32.const 0))
      (local.set $i (local.get $N))
      (if (i32.lt_u (i32.add (i32.shl (local.get $j) (i32.const 1)) (i32.const 1)) (local.get $K))
        (then
          (block $idone (loop $iloop
            (br_if $idone (i32.eqz (local.get $i)))
            (local.set $vw (i64.load (local.get $x)))
            (i64.store (local.get $E) (local.get $vw))
            (i32.store offset=8 (local.get $E) (local.get $off))
            (local.set $E (i32.add (local.get $E)
              (select (i32.const ${ENTRY}) (i32.const 0) (i64.ne (i64.and (local.get $vw) (i64.const 0x7fffffff7fffffff)) (i64.const 0)))))
            (local.set $x (i32.add (local.get $x) (local.get $row)))
            (local.set $off (i32.add (local.get $off) (local.get $ldb)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $iloop))))
        (else
          ;; the last column alone (K odd): its value and a 0
          (block $odone (loop $oloop
            (br_if $odone (i32.eqz (local.get $i)))
            (local.set $vw (i64.extend_i32_u (i32.load (local.get $x))))
            (i64.store (local.get $E) (local.get $vw))
            (i32.store offset=8 (local.get $E) (local.get $off))
            (local.set $E (i32.add (local.get $E)
              (select (i32.const ${ENTRY}) (i32.const 0) (i64.ne (i64.and (local.get $vw) (i64.const 0x7fffffff)) (i64.const 0)))))
            (local.set $x (i32.add (local.get $x) (local.get $row)))
            (local.set $off (i32.add (local.get $off) (local.get $ldb)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $oloop)))))
      (i32.store offset=4 (local.get $r) (local.get $E))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jloop)))
  )
`;
}

export function csrWat(): string {
  return `
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
${blockBuilders()}`;
}
