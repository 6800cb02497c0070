// The module's functions, declared once. From this table come the WAT
// parameter lists (the *-wat.ts templates open each exported function with
// watParams(name)), the pool's function list and ids, and the typed calls of
// calls.ts, so a name, an argument order or a count cannot drift apart.
//
// Two kinds:
//   range:  fn(u0, u1, S, ...args) works on the units [u0, u1) of a job (rows,
//           columns, elements); the pool splits a job over the threads, each
//           with its own scratch S (pool.ts).
//   direct: fn(...args), called on this thread.
// Every argument goes as i32 words: `ptr` a byte address in the shared memory,
// `i32` a count, stride or flag, `f32` a float passed as its bits (the WAT
// reinterprets it), `f64` a double passed as two words, the low and the high
// half of its bits ($<name>_lo, $<name>_hi; f64Arg puts them together).
export type ArgKind = 'ptr' | 'i32' | 'f32' | 'f64';

interface Signature {
  readonly kind: 'range' | 'direct';
  readonly args: Readonly<Record<string, ArgKind>>;
}

// gemm's operands (gemm-wat.ts): C (+)= A B, strides in floats, panel strides for B and C.
const GEMM = { C: 'ptr', ldc: 'i32', cps: 'i32', A: 'ptr', ars: 'i32', aks: 'i32', B: 'ptr', ldb: 'i32', bps: 'i32' } as const;
// spmm's operands (sparse-wat.ts): C (+)= CSR(R) B over P rows.
const SPMM = { C: 'ptr', ldc: 'i32', cps: 'i32', R: 'ptr', P: 'i32', B: 'ptr', bps: 'i32', Q: 'i32', acc: 'i32' } as const;

export const SIGNATURES = {
  gemm_rows: { kind: 'range', args: { ...GEMM, Q: 'i32', K: 'i32', acc: 'i32' } },
  gemm_cols: { kind: 'range', args: { ...GEMM, P: 'i32', Q: 'i32', K: 'i32', acc: 'i32' } },
  spmm: { kind: 'range', args: SPMM },
  // large batches (sparse-wat.ts): C (+)= X B over X's row pairs, C (+)= X^T B over its column pairs, a CSR block per thread
  spmm_x: { kind: 'range', args: { C: 'ptr', ldc: 'i32', cps: 'i32', X: 'ptr', K: 'i32', P: 'i32', B: 'ptr', ldb: 'i32', bps: 'i32', Q: 'i32', acc: 'i32' } },
  spmm_xt: { kind: 'range', args: { C: 'ptr', ldc: 'i32', cps: 'i32', X: 'ptr', K: 'i32', N: 'i32', B: 'ptr', ldb: 'i32', bps: 'i32', Q: 'i32', acc: 'i32' } },
  dot_rows: { kind: 'range', args: { C: 'ptr', A: 'ptr', W: 'ptr', K: 'i32', O: 'i32' } },
  sigmoid: { kind: 'range', args: { A: 'ptr', Z: 'ptr' } },
  sigmoid_backward: { kind: 'range', args: { dZ: 'ptr', dA: 'ptr', A: 'ptr' } },
  softplus: { kind: 'range', args: { A: 'ptr', Z: 'ptr' } },
  softplus_backward: { kind: 'range', args: { dZ: 'ptr', dA: 'ptr', Z: 'ptr' } },
  relu: { kind: 'range', args: { A: 'ptr', Z: 'ptr' } },
  relu_backward: { kind: 'range', args: { dZ: 'ptr', dA: 'ptr', A: 'ptr' } },
  bias_rows: { kind: 'range', args: { Z: 'ptr', b: 'ptr', O: 'i32' } },
  copy_rows: { kind: 'range', args: { dst: 'ptr', ldd: 'i32', src: 'ptr', lds: 'i32', cols: 'i32' } },
  col_sums: { kind: 'range', args: { db: 'ptr', D: 'ptr', N: 'i32', O: 'i32' } },
  // the optimizers (optimizers-wat.ts; the equations in src/model/optimizer.ts)
  sgd: { kind: 'range', args: { P: 'ptr', V: 'ptr', G: 'ptr', mu: 'f32', scale: 'f32', lr: 'f32' } },
  nesterov: { kind: 'range', args: { P: 'ptr', V: 'ptr', G: 'ptr', mu: 'f32', scale: 'f32', lr: 'f32' } },
  adam: {
    kind: 'range',
    args: { P: 'ptr', M: 'ptr', V: 'ptr', G: 'ptr', scale: 'f32', beta1: 'f32', beta2: 'f32', c1: 'f32', c2: 'f32', alpha: 'f32', bc2: 'f32', eps: 'f32' },
  },
  decay: { kind: 'range', args: { X: 'ptr', factor: 'f32' } },
  rprop: {
    kind: 'range',
    args: { P: 'ptr', G: 'ptr', sign: 'ptr', step: 'ptr', delta: 'ptr', eta_minus: 'f32', eta_plus: 'f32', step_min: 'f32', step_max: 'f32', revert: 'i32' },
  },
  // dropout's mask (dropout-wat.ts) and the max-norm constraint (max-norm-wat.ts)
  dropout: { kind: 'range', args: { out: 'ptr', A: 'ptr', k1: 'i32', k2: 'i32', threshold: 'i32', scale: 'f32' } },
  max_norm_cols: { kind: 'range', args: { W: 'ptr', R: 'i32', ld: 'i32', ps: 'i32', c: 'f64' } },
  max_norm_vectors: { kind: 'range', args: { W: 'ptr', K: 'i32', stride: 'i32', unit: 'i32', c: 'f64' } },
  // the L2 term (l2-wat.ts): G += lambda W in float64; the sums of squares of blocks of W
  l2_grad: { kind: 'range', args: { G: 'ptr', W: 'ptr', lambda: 'f64' } },
  l2_sums: { kind: 'range', args: { out: 'ptr', W: 'ptr', n: 'i32' } },
  load_batch: { kind: 'range', args: { X: 'ptr', images: 'ptr', order: 'ptr', K: 'i32', table: 'ptr' } },
  csr_slots: {
    kind: 'range',
    args: { X: 'ptr', count: 'i32', step: 'i32', second: 'i32', pair: 'i32', total: 'i32', ldb: 'i32', R: 'ptr', E: 'ptr' },
  },
  gemm: { kind: 'direct', args: { ...GEMM, P: 'i32', Q: 'i32', K: 'i32', acc: 'i32', S: 'ptr' } },
  transpose: { kind: 'direct', args: { dst: 'ptr', src: 'ptr', rows: 'i32', cols: 'i32' } },
  csr_pairs: { kind: 'direct', args: { X: 'ptr', N: 'i32', K: 'i32', ldb: 'i32', R: 'ptr', E: 'ptr' } },
} as const satisfies Record<string, Signature>;

export type FunctionName = keyof typeof SIGNATURES;
export type RangeName = { [F in FunctionName]: (typeof SIGNATURES)[F]['kind'] extends 'range' ? F : never }[FunctionName];
export type DirectName = Exclude<FunctionName, RangeName>;

/** Argument words a range function takes after (u0, u1, S) at most: the pool's control block holds this many. */
export const MAX_ARGS = 13;

/** The range functions in pool order: a job names its function by its index here. */
export const POOL_FUNCTIONS = (Object.keys(SIGNATURES) as FunctionName[]).filter(
  (name): name is RangeName => SIGNATURES[name].kind === 'range',
);

/** Pool index of each range function. */
export const FN = Object.fromEntries(POOL_FUNCTIONS.map((name, i) => [name, i])) as { readonly [F in RangeName]: number };

/** The argument names of a function, in the order the module takes them. */
export function argNames(name: FunctionName): readonly string[] {
  return Object.keys(SIGNATURES[name].args);
}

/** The kinds of a function's arguments, in the order of argNames. */
export function argKinds(name: FunctionName): readonly ArgKind[] {
  const args = SIGNATURES[name].args as Readonly<Record<string, ArgKind>>;
  return argNames(name).map((a) => args[a]);
}

/** The i32 words a function takes after (u0, u1, S), named: an argument's name, or <name>_lo, <name>_hi for an f64. */
export function argWords(name: FunctionName): readonly string[] {
  const kinds = argKinds(name);
  return argNames(name).flatMap((a, i) => (kinds[i] === 'f64' ? [`${a}_lo`, `${a}_hi`] : [a]));
}

/** WAT: the export and parameter list of a function, `(export "name") (param $u0 i32) ...`. */
export function watParams(name: FunctionName): string {
  const range = SIGNATURES[name].kind === 'range' ? ['u0', 'u1', 'S'] : [];
  return `(export "${name}") ${[...range, ...argWords(name)].map((a) => `(param $${a} i32)`).join(' ')}`;
}

/** WAT: the f64 argument `name`, from its two words. */
export function f64Arg(name: string): string {
  return `(f64.reinterpret_i64 (i64.or (i64.extend_i32_u (local.get $${name}_lo)) (i64.shl (i64.extend_i32_u (local.get $${name}_hi)) (i64.const 32))))`;
}

for (const name of POOL_FUNCTIONS) {
  if (argWords(name).length > MAX_ARGS) throw new Error(`${name}: more than ${MAX_ARGS} argument words`);
}
