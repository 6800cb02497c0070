// The WebAssembly text of the SIMD matrix kernel, generated here and assembled
// by wabt at build time (src/kernels/wasm/build.ts -> dist/wasm/*.wasm).
//
// One kernel serves the three products of a dense layer:
//
//   C[p, q] (+)= Σ_k A(p, k) · B[k, q]       A(p, k) = A[p·ars + k·aks]
//
// with A read through two strides, so that A can be X, dZ or dZ^T without a
// copy, and B and C each either row-major or in 16-column panels:
//
//   M[r, q] = M[(q >> 4)·mps + r·ldm + (q & 15)]
//
//   row-major [R, Q]:  ldm = Q (floats between rows), mps = 16
//   panels:            ldm = 16, mps = 16·R (floats between panels): panel j
//                      holds columns 16j .. 16j + 15 as [R, 16], the last one
//                      padded to 16 columns
//
// Panels are for operands read again and again, like W^T: the 8 columns a
// tile reads are then 32 consecutive bytes per k (a 4-row panel streams
// 784 x 32 B), not half of a cache line every 3,200 bytes (the README's
// bench table has both layouts).
//
//   forward  Z  = X W^T     C = Z,  A = X    (ars = I, aks = 1), B = W^T packed [I, O]
//   dW       dW = dZ^T X    C = dW, A = dZ^T (ars = 1, aks = O), B = X [N, I]
//   dX       dX = dZ W      C = dX, A = dZ   (ars = O, aks = 1), B = W [O, I]
//
// Register tile: 4 rows of C by 8 columns (two f32x4): 8 accumulators, two B
// vectors and one broadcast A value, 11 live v128. The 4 rows of A a tile
// needs are first packed k-major into a scratch panel, so the inner loop reads
// them with one pointer and constant offsets (v128.load32_splat): per k, 2
// vector loads of B, 4 broadcast loads of A, 8 multiply-adds.
//
// Zero skipping: the panel keeps only the k whose 4 A values are not all zero
// (with the byte offset of B's row k beside them). MNIST pixels are 81% zero,
// so for A = X the tile loop skips most k. Skipping is exact: a skipped term
// would have added (+-0) * b to the running sum, which leaves it unchanged
// (for finite b), so the result equals the dense sum bit for bit, up to the
// sign of an all-zero sum. Four rows is the tallest tile that stays in
// registers: from 5 rows on, V8 spills accumulators (it keeps xmm15 as
// scratch) and the kernel runs at half the speed (README, "Speed").
// Columns past the last full 8 (the 10 outputs: 2) take the tile's 4 rows in
// the lanes of one vector, from the same panel. Rows past the last full tile
// go through a 1x8 tile and, at the right edge, a scalar loop. Every C[p, q]
// sums its k terms in ascending k.
//
// `fma`: f32x4.relaxed_madd (one fused multiply-add where the CPU has it,
// relaxed-SIMD proposal); otherwise f32x4.mul then f32x4.add.
import { watParams } from './signatures.js';

const TILE_P = 4;
/** Panel width of the 16-column layout, and the panel stride (floats) that makes it row-major. */
export const PANEL_Q = 16;
export const ROW_MAJOR = PANEL_Q;
/** Floats of a [rows, Q] matrix in 16-column panels (the last panel padded to 16 columns). */
export function panelFloats(rows: number, Q: number): number {
  return rows * PANEL_Q * Math.ceil(Q / PANEL_Q);
}
/** Index of M[r, q] with ld floats between rows and ps between 16-column panels (row-major: ld = Q, ps = ROW_MAJOR). */
export function panelIndex(r: number, q: number, ld: number, ps: number): number {
  return (q >> 4) * ps + r * ld + (q & 15);
}
/** Columns of a gemm_cols block: B [784, 128] floats = 400 KB, within a core's L2. */
export const GEMM_COL_BLOCK = 128;
/** Bytes of a packed panel entry: 4 A values and the byte offset of the B row. */
const ENTRY = 4 * TILE_P + 4;

/** WAT: the byte address of column q (a WAT i32 expression) in row 0 of M, for panel stride `ps` (bytes); panelIndex in WAT. */
export function col(M: string, q: string, ps: string): string {
  return `(i32.add ${M} (i32.add (i32.mul (i32.shr_u ${q} (i32.const 4)) ${ps}) (i32.shl (i32.and ${q} (i32.const 15)) (i32.const 2))))`;
}

export function madd(fma: boolean, a: string, b: string, c: string): string {
  return fma ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`;
}

/** WAT: dst[c, r] = src[r, c] element by element for r in [r0, r1), c in [c0, c1) (labels prefixed `tag`). */
function transposeScalar(tag: string, r0: string, r1: string, c0: string, c1: string): string {
  return `(local.set $r ${r0})
    (block $${tag}done (loop $${tag}loop
      (br_if $${tag}done (i32.ge_u (local.get $r) ${r1}))
      (local.set $c ${c0})
      (block $${tag}cdone (loop $${tag}cloop
        (br_if $${tag}cdone (i32.ge_u (local.get $c) ${c1}))
        (f32.store
          (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
          (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $${tag}cloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $${tag}loop)))`;
}

/** WAT of the functions gemm, gemm_rows (its pool entry) and transpose (module-wat.ts assembles the module). */
export function gemmWat(fma: boolean): string {
  const rows = Array.from({ length: TILE_P }, (_, r) => r);
  const accLocals = rows.map((r) => `(local $c${r}0 v128) (local $c${r}1 v128)`).join(' ');
  const offLocals = rows.map((r) => `(local $ao${r} i32) (local $co${r} i32)`).join(' ');

  // Accumulators of the 4x8 tile: from C (accumulate) or zero.
  const initTile = rows
    .map(
      (r) => `
          (local.set $c${r}0 (if (result v128) (local.get $acc)
            (then (v128.load (i32.add (local.get $cq) (local.get $co${r}))))
            (else (v128.const i32x4 0 0 0 0))))
          (local.set $c${r}1 (if (result v128) (local.get $acc)
            (then (v128.load offset=16 (i32.add (local.get $cq) (local.get $co${r}))))
            (else (v128.const i32x4 0 0 0 0))))`,
    )
    .join('');
  const kStep = rows
    .map(
      (r) => `
              (local.set $a (v128.load32_splat offset=${4 * r} (local.get $sk)))
              (local.set $c${r}0 ${madd(fma, '(local.get $a)', '(local.get $b0)', `(local.get $c${r}0)`)})
              (local.set $c${r}1 ${madd(fma, '(local.get $a)', '(local.get $b1)', `(local.get $c${r}1)`)})`,
    )
    .join('');
  // Load the 4 values A(p..p+3, k) into $v0..$v3 and OR their bits (sign masked off: -0 counts as zero).
  const packLoad = rows
    .map((r) => `
        (local.set $v${r} (f32.load (i32.add (local.get $ak) (local.get $ao${r}))))`)
    .join('');
  const anyNonZero = rows
    .map((r) => `(i32.and (i32.reinterpret_f32 (local.get $v${r})) (i32.const 0x7fffffff))`)
    .reduce((acc, x) => `(i32.or ${acc} ${x})`);
  const packStore = rows.map((r) => `
          (f32.store offset=${4 * r} (local.get $sk) (local.get $v${r}))`).join('');
  const storeTile = rows
    .map(
      (r) => `
          (v128.store (i32.add (local.get $cq) (local.get $co${r})) (local.get $c${r}0))
          (v128.store offset=16 (i32.add (local.get $cq) (local.get $co${r})) (local.get $c${r}1))`,
    )
    .join('');
  const offsets = rows
    .map(
      (r) => `
    (local.set $ao${r} (i32.mul (i32.const ${r}) (local.get $ars)))
    (local.set $co${r} (i32.mul (i32.const ${r}) (local.get $ldc)))`,
    )
    .join('');

  return `
  ;; C[p, q] (+)= sum_k A[p*ars + k*aks] * B[k, q], B[k, q] = B[(q >> 4)*bps + k*ldb + (q & 15)],
  ;; C likewise (cps, ldc); pointers in bytes, strides in floats;
  ;; S: scratch for one packed panel of A (5 K words).
  (func $gemm ${watParams('gemm')}
    (local $sk i32) (local $send i32) (local $boff i32) (local $bq i32) (local $v0 f32) (local $v1 f32) (local $v2 f32) (local $v3 f32) (local $p i32) (local $q i32) (local $k i32) (local $P4 i32) (local $Q8 i32)
    (local $ap i32) (local $ak i32) (local $bk i32) (local $cp i32) (local $cq i32) (local $s f32)
    (local $a v128) (local $b0 v128) (local $b1 v128) (local $dense i32)
    ${accLocals}
    ${offLocals}
    ;; strides to bytes
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $ars (i32.shl (local.get $ars) (i32.const 2)))
    (local.set $aks (i32.shl (local.get $aks) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $cps (i32.shl (local.get $cps) (i32.const 2)))
    (local.set $bps (i32.shl (local.get $bps) (i32.const 2)))
    (local.set $P4 (i32.sub (local.get $P) (i32.rem_u (local.get $P) (i32.const ${TILE_P}))))
    (local.set $Q8 (i32.sub (local.get $Q) (i32.and (local.get $Q) (i32.const 7))))
    ${offsets}

    ;; 4x8 tiles
    (local.set $p (i32.const 0))
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p) (local.get $P4)))
      (local.set $ap (i32.add (local.get $A) (i32.mul (local.get $p) (local.get $ars))))
      (local.set $cp (i32.add (local.get $C) (i32.mul (local.get $p) (local.get $ldc))))
      ;; pack the panel A(p..p+3, 0..K) into S, one ${ENTRY}-byte entry per k whose 4 values
      ;; are not all zero: [A(p, k), .., A(p+3, k), byte offset of B row k]
      (local.set $ak (local.get $ap))
      (local.set $sk (local.get $S))
      (local.set $boff (i32.const 0))
      (local.set $k (local.get $K))
      (block $pkdone (loop $pkloop
        (br_if $pkdone (i32.eqz (local.get $k)))
        ${packLoad}
        (if ${anyNonZero} (then
          ${packStore}
          (i32.store offset=${4 * TILE_P} (local.get $sk) (local.get $boff))
          (local.set $sk (i32.add (local.get $sk) (i32.const ${ENTRY})))))
        (local.set $ak (i32.add (local.get $ak) (local.get $aks)))
        (local.set $boff (i32.add (local.get $boff) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $pkloop)))
      (local.set $send (local.get $sk))
      (local.set $dense (i32.eq (i32.sub (local.get $send) (local.get $S)) (i32.mul (local.get $K) (i32.const ${ENTRY}))))
      (local.set $q (i32.const 0))
      (block $qdone (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q) (local.get $Q8)))
        (local.set $cq ${col('(local.get $cp)', '(local.get $q)', '(local.get $cps)')})
        ${initTile}
        (local.set $sk (local.get $S))
        (local.set $bq ${col('(local.get $B)', '(local.get $q)', '(local.get $bps)')})
        (if (local.get $dense)
          (then
            ;; no k skipped: B's rows in order, without reading their offsets
            (local.set $bk (local.get $bq))
            (block $ddone (loop $dloop
              (br_if $ddone (i32.ge_u (local.get $sk) (local.get $send)))
              (local.set $b0 (v128.load (local.get $bk)))
              (local.set $b1 (v128.load offset=16 (local.get $bk)))
              ${kStep}
              (local.set $bk (i32.add (local.get $bk) (local.get $ldb)))
              (local.set $sk (i32.add (local.get $sk) (i32.const ${ENTRY})))
              (br $dloop))))
          (else
            (block $kdone (loop $kloop
              (br_if $kdone (i32.ge_u (local.get $sk) (local.get $send)))
              (local.set $bk (i32.add (local.get $bq) (i32.load offset=${4 * TILE_P} (local.get $sk))))
              (local.set $b0 (v128.load (local.get $bk)))
              (local.set $b1 (v128.load offset=16 (local.get $bk)))
              ${kStep}
              (local.set $sk (i32.add (local.get $sk) (i32.const ${ENTRY})))
              (br $kloop)))))
        ${storeTile}
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $qloop)))
      ;; columns Q8..Q: the 4 rows in the lanes of one vector, from the same panel
      (block $tqdone (loop $tqloop
        (br_if $tqdone (i32.ge_u (local.get $q) (local.get $Q)))
        (local.set $cq ${col('(local.get $cp)', '(local.get $q)', '(local.get $cps)')})
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (if (local.get $acc) (then
          ${rows.map((r) => `(local.set $c00 (f32x4.replace_lane ${r} (local.get $c00) (f32.load (i32.add (local.get $cq) (local.get $co${r})))))`).join('\n          ')}))
        (local.set $sk (local.get $S))
        (local.set $bq ${col('(local.get $B)', '(local.get $q)', '(local.get $bps)')})
        (block $tkdone (loop $tkloop
          (br_if $tkdone (i32.ge_u (local.get $sk) (local.get $send)))
          (local.set $c00 ${madd(fma, '(v128.load (local.get $sk))', `(v128.load32_splat (i32.add (local.get $bq) (i32.load offset=${4 * TILE_P} (local.get $sk))))`, '(local.get $c00)')})
          (local.set $sk (i32.add (local.get $sk) (i32.const ${ENTRY})))
          (br $tkloop)))
        ${rows.map((r) => `(f32.store (i32.add (local.get $cq) (local.get $co${r})) (f32x4.extract_lane ${r} (local.get $c00)))`).join('\n        ')}
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $tqloop)))
      (local.set $p (i32.add (local.get $p) (i32.const ${TILE_P})))
      (br $ploop)))

    ;; rows P4..P: 1x8 tiles
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $p) (local.get $P)))
      (local.set $ap (i32.add (local.get $A) (i32.mul (local.get $p) (local.get $ars))))
      (local.set $cp (i32.add (local.get $C) (i32.mul (local.get $p) (local.get $ldc))))
      (local.set $q (i32.const 0))
      (block $qdone (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q) (local.get $Q8)))
        (local.set $cq ${col('(local.get $cp)', '(local.get $q)', '(local.get $cps)')})
        (local.set $c00 (if (result v128) (local.get $acc) (then (v128.load (local.get $cq))) (else (v128.const i32x4 0 0 0 0))))
        (local.set $c01 (if (result v128) (local.get $acc) (then (v128.load offset=16 (local.get $cq))) (else (v128.const i32x4 0 0 0 0))))
        (local.set $ak (local.get $ap))
        (local.set $bk ${col('(local.get $B)', '(local.get $q)', '(local.get $bps)')})
        (local.set $k (local.get $K))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.eqz (local.get $k)))
          (local.set $a (f32x4.splat (f32.load (local.get $ak))))
          (local.set $c00 ${madd(fma, '(local.get $a)', '(v128.load (local.get $bk))', '(local.get $c00)')})
          (local.set $c01 ${madd(fma, '(local.get $a)', '(v128.load offset=16 (local.get $bk))', '(local.get $c01)')})
          (local.set $ak (i32.add (local.get $ak) (local.get $aks)))
          (local.set $bk (i32.add (local.get $bk) (local.get $ldb)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $kloop)))
        (v128.store (local.get $cq) (local.get $c00))
        (v128.store offset=16 (local.get $cq) (local.get $c01))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        (br $qloop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $rloop)))

    ;; columns Q8..Q of the rows P4..P: scalar
    (local.set $p (local.get $P4))
    (block $sdone (loop $sloop
      (br_if $sdone (i32.ge_u (local.get $p) (local.get $P)))
      (local.set $ap (i32.add (local.get $A) (i32.mul (local.get $p) (local.get $ars))))
      (local.set $cp (i32.add (local.get $C) (i32.mul (local.get $p) (local.get $ldc))))
      (local.set $q (local.get $Q8))
      (block $qdone (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q) (local.get $Q)))
        (local.set $cq ${col('(local.get $cp)', '(local.get $q)', '(local.get $cps)')})
        (local.set $s (if (result f32) (local.get $acc) (then (f32.load (local.get $cq))) (else (f32.const 0))))
        (local.set $ak (local.get $ap))
        (local.set $bk ${col('(local.get $B)', '(local.get $q)', '(local.get $bps)')})
        (local.set $k (local.get $K))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.eqz (local.get $k)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $ak)) (f32.load (local.get $bk)))))
          (local.set $ak (i32.add (local.get $ak) (local.get $aks)))
          (local.set $bk (i32.add (local.get $bk) (local.get $ldb)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $kloop)))
        (f32.store (local.get $cq) (local.get $s))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $qloop)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $sloop)))
  )

  ;; dst[c, r] = src[r, c] for a rows x cols matrix; pointers in bytes.
  ;; 4x4 blocks through registers (two rounds of shuffles), in strips of 32
  ;; columns so the destination lines a strip writes stay in cache; the ragged
  ;; edges element by element.
  (func ${watParams('transpose')}
    (local $r i32) (local $c i32) (local $c0 i32) (local $cend i32) (local $rows4 i32) (local $cols4 i32)
    (local $sp i32) (local $dp i32) (local $sr i32) (local $dr i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $sr (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $dr (i32.shl (local.get $rows) (i32.const 2)))
    (local.set $c0 (i32.const 0))
    (block $c0done (loop $c0loop
      (br_if $c0done (i32.ge_u (local.get $c0) (local.get $cols4)))
      (local.set $cend (select (i32.add (local.get $c0) (i32.const 32)) (local.get $cols4)
        (i32.lt_u (i32.add (local.get $c0) (i32.const 32)) (local.get $cols4))))
      (local.set $r (i32.const 0))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows4)))
        (local.set $c (local.get $c0))
        (block $cdone (loop $cloop
          (br_if $cdone (i32.ge_u (local.get $c) (local.get $cend)))
          (local.set $sp (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
          (local.set $x0 (v128.load (local.get $sp)))
          (local.set $x1 (v128.load (i32.add (local.get $sp) (local.get $sr))))
          (local.set $x2 (v128.load (i32.add (local.get $sp) (i32.shl (local.get $sr) (i32.const 1)))))
          (local.set $x3 (v128.load (i32.add (local.get $sp) (i32.mul (local.get $sr) (i32.const 3)))))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
          (local.set $dp (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
          (v128.store (local.get $dp) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dp) (local.get $dr)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
          (v128.store (i32.add (local.get $dp) (i32.shl (local.get $dr) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
          (v128.store (i32.add (local.get $dp) (i32.mul (local.get $dr) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
          (local.set $c (i32.add (local.get $c) (i32.const 4)))
          (br $cloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rloop)))
      (local.set $c0 (local.get $cend))
      (br $c0loop)))
    ;; ragged edges: rows rows4.. (every column), then columns cols4.. (rows below rows4)
    ${transposeScalar('e', '(local.get $rows4)', '(local.get $rows)', '(i32.const 0)', '(local.get $cols)')}
    ${transposeScalar('f', '(i32.const 0)', '(local.get $rows4)', '(local.get $cols4)', '(local.get $cols)')}
  )

  ;; The pool's entries (pool.ts), with S as panel scratch.
  ;; gemm_cols: gemm on the column blocks [u0, u1) of ${GEMM_COL_BLOCK} columns of C and B (the last
  ;; block ends at Q): each block of B [K, ${GEMM_COL_BLOCK}] stays in the core's cache while every
  ;; row tile passes over it. Blocks start at multiples of 8, so every C entry is computed the same
  ;; way whatever the split.
  (func ${watParams('gemm_cols')}
    (local $q0 i32) (local $q1 i32)
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $u0) (local.get $u1)))
      (local.set $q0 (i32.mul (local.get $u0) (i32.const ${GEMM_COL_BLOCK})))
      (local.set $q1 (i32.add (local.get $q0) (i32.const ${GEMM_COL_BLOCK})))
      (if (i32.gt_u (local.get $q1) (local.get $Q)) (then (local.set $q1 (local.get $Q))))
      (call $gemm
        ${col('(local.get $C)', '(local.get $q0)', '(i32.shl (local.get $cps) (i32.const 2))')} (local.get $ldc) (local.get $cps)
        (local.get $A) (local.get $ars) (local.get $aks)
        ${col('(local.get $B)', '(local.get $q0)', '(i32.shl (local.get $bps) (i32.const 2))')} (local.get $ldb) (local.get $bps)
        (local.get $P) (i32.sub (local.get $q1) (local.get $q0)) (local.get $K) (local.get $acc) (local.get $S))
      (local.set $u0 (i32.add (local.get $u0) (i32.const 1)))
      (br $loop)))
  )

  ;; gemm_rows: gemm on the rows [u0, u1) of C and A.
  (func ${watParams('gemm_rows')}
    (call $gemm
      (i32.add (local.get $C) (i32.shl (i32.mul (local.get $u0) (local.get $ldc)) (i32.const 2))) (local.get $ldc) (local.get $cps)
      (i32.add (local.get $A) (i32.shl (i32.mul (local.get $u0) (local.get $ars)) (i32.const 2))) (local.get $ars) (local.get $aks)
      (local.get $B) (local.get $ldb) (local.get $bps) (i32.sub (local.get $u1) (local.get $u0)) (local.get $Q) (local.get $K) (local.get $acc) (local.get $S))
  )
`;
}
