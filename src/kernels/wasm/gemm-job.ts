// gemm as a job on every thread: C (+)= A B with gemm-wat.ts's operands.
import type { ModuleCalls, Operand } from './calls.js';
import { GEMM_COL_BLOCK, ROW_MAJOR } from './gemm-wat.js';
import { grainOf } from './pool.js';

/** gemm-wat.ts's operands: C[p, q] (+)= Σ_k A[p·ars + k·aks] B[k, q], P x Q x K; acc = 1 adds into C. */
export interface GemmOperands {
  C: Operand;
  ldc: number;
  cps: number;
  A: Operand;
  ars: number;
  aks: number;
  B: Operand;
  ldb: number;
  bps: number;
  P: number;
  Q: number;
  K: number;
  acc: number;
}

/** Per-thread scratch for gemm's packed panels of A: `bytes` each, from byte address `at`. */
export interface PanelScratch {
  at: number;
  bytes: number;
}

/**
 * Split by rows, except products with few rows, and large row-major B, which
 * go by blocks of columns (for B: the part a thread reads then stays in its
 * core's cache; B in 16-column panels streams well from any cache, and
 * splitting by rows packs each row panel of A once). A long inner dimension
 * (full-batch weight gradients: K = 60,000 samples) goes in blocks of K, each
 * a job that adds into C, so the rows of B it reads stay in cache; every C
 * entry still sums its terms in ascending k through one float32 accumulator
 * (stored and reloaded between blocks), so the bits are the same.
 */
export function runGemm(k: ModuleCalls, scratch: PanelScratch, g: GemmOperands): void {
  const { P, Q, K } = g;
  const A = k.address(g.A);
  const B = k.address(g.B);
  const at = scratch.at;
  const bytes = scratch.bytes;
  const kBlock = K > 2048 && 4 * K * Q > 1 << 20 ? Math.max(256, Math.floor((1 << 17) / Math.min(Q, GEMM_COL_BLOCK))) : K;
  for (let k0 = 0; k0 < K; k0 += kBlock) {
    const Kb = Math.min(kBlock, K - k0);
    const o = { C: g.C, ldc: g.ldc, cps: g.cps, A: A + 4 * k0 * g.aks, ars: g.ars, aks: g.aks, B: B + 4 * k0 * g.ldb, ldb: g.ldb, bps: g.bps };
    const acc = k0 > 0 ? 1 : g.acc;
    if (P * Q * Kb < 1 << 17) {
      // small products cost less than handing out chunks
      k.gemm_rows(P, P, { ...o, Q, K: Kb, acc }, at, bytes);
    } else if ((P < 32 || (g.bps === ROW_MAJOR && 4 * Kb * Q > 1 << 19)) && Q >= 2 * GEMM_COL_BLOCK) {
      // few rows (a narrow layer's dW [10, I]), or a large row-major B: by blocks of columns
      const blocks = Math.ceil(Q / GEMM_COL_BLOCK);
      k.gemm_cols(blocks, grainOf(blocks, k.threads, 1), { ...o, P, Q, K: Kb, acc }, at, bytes);
    } else {
      k.gemm_rows(P, grainOf(P, k.threads, 4, 8), { ...o, Q, K: Kb, acc }, at, bytes);
    }
  }
}
