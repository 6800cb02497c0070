// The copying kernels' rows: for the products of a 784-800-10 net at batch 128
// (and the first layer of full-batch 784-300-10), each kernel of matmul.ts is
// checked against the naive one on the same inputs, then timed on its own
// Float32Arrays (the wasm one copies them in and out of its memory).
import { KERNELS, selectKernels, setKernelThreads, type KernelName, type MatmulKernels } from '../src/kernels/matmul.js';
import { Rng } from '../src/rng.js';
import { random, time, variants, type KernelRow } from './timing.js';

interface Case {
  name: string;
  N: number;
  I: number;
  O: number;
  op: 'forward' | 'backward'; // backward: dW and db, plus dX when withDX
  withDX: boolean;
  naive: boolean; // time the naive kernel too (not on the large full-batch product)
}

const CASES: Case[] = [
  { name: 'forward 128x784->800', N: 128, I: 784, O: 800, op: 'forward', withDX: false, naive: true },
  { name: 'weight grad 784x128x800', N: 128, I: 784, O: 800, op: 'backward', withDX: false, naive: true },
  { name: 'fwd+bwd 128x800->10', N: 128, I: 800, O: 10, op: 'backward', withDX: true, naive: true },
  { name: 'full batch 60000x784->300', N: 60000, I: 784, O: 300, op: 'forward', withDX: false, naive: false },
];

/** Largest |fast - naive| relative to the largest |naive| entry, over the outputs of the case. */
function verify(k: MatmulKernels, c: Case, rng: Rng): number {
  const N = Math.min(c.N, 257); // the kernel code is the same at any N; keep naive quick
  const { I, O } = c;
  const X = random(N * I, rng), W = random(O * I, rng), b = random(O, rng), dZ = random(N * O, rng);
  const run = (m: MatmulKernels): Float32Array[] => {
    const out = [new Float32Array(N * O), new Float32Array(N * I), new Float32Array(O * I), new Float32Array(O)];
    m.forward(out[0], X, W, b, N, I, O);
    m.backward(out[1], out[2], out[3], dZ, X, W, N, I, O);
    return out;
  };
  const ref = run(KERNELS.naive);
  const got = run(k);
  let worst = 0;
  for (let j = 0; j < ref.length; j++) {
    let scale = 0;
    for (const v of ref[j]) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < ref[j].length; i++) worst = Math.max(worst, Math.abs(ref[j][i] - got[j][i]) / scale);
  }
  return worst;
}

export function benchKernels(names: KernelName[]): KernelRow[] {
  const rows: KernelRow[] = [];
  const rng = new Rng(7, 0);
  for (const c of CASES) {
    for (const { name, threads } of variants(names)) {
      if (name === 'naive' && !c.naive) continue;
      setKernelThreads(threads);
      const sel = selectKernels(name);
      const k = sel.kernels;
      const err = verify(k, c, rng);
      const limit = name === 'blocked' || name === 'naive' ? 0 : 1e-5;
      if (!(err <= limit)) throw new Error(`${sel.name} disagrees with naive on ${c.name}: relative error ${err} > ${limit}`);
      const { N, I, O } = c;
      const X = random(N * I, rng), W = random(O * I, rng), b = random(O, rng), dZ = random(N * O, rng);
      const Z = new Float32Array(N * O), dX = new Float32Array(N * I), dW = new Float32Array(O * I), db = new Float32Array(O);
      const flop = c.op === 'forward' ? 2 * N * I * O : 2 * N * I * O * (c.withDX ? 3 : 1);
      const ms = time(
        c.op === 'forward'
          ? () => k.forward(Z, X, W, b, N, I, O)
          : c.withDX
            ? () => { k.forward(Z, X, W, b, N, I, O); k.backward(dX, dW, db, dZ, X, W, N, I, O); }
            : () => k.backward(null, dW, db, dZ, X, W, N, I, O),
        c.N > 1000 ? 3 : 7,
      );
      rows.push({ kernel: name === 'wasm' ? `${sel.name} x${threads}` : sel.name, case: c.name, rel_error: err, ms, gflops: flop / (ms / 1000) / 1e9 });
    }
  }
  return rows;
}
