// Typed, named calls into the module, made from signatures.ts: what reads
//   pool.run(FN.sgd, P, grain, 0, 0, addr(params), addr(velocity), addr(grads), bits(mu), bits(1 / d), bits(lr))
// is written
//   k.sgd(P, grain, { P: params, V: velocity, G: grads, mu, scale: 1 / d, lr })
// A pointer argument takes a view into the module's memory (its address is
// its byteOffset) or a byte address; an f32 or f64 argument a number (passed
// as its bits, an f64 in two words). Range functions run as pool jobs over `units` in chunks of `grain`,
// with per-thread `scratch` every `stride` bytes; direct ones on this thread.
// The argument words go through one preallocated buffer: a call allocates
// nothing but its argument object.
import type { WasmRuntime } from './runtime.js';
import { argKinds, argNames, FN, SIGNATURES, type ArgKind, type DirectName, type FunctionName, type RangeName } from './signatures.js';

/** A view into the module's memory, or a byte address in it. */
export type Operand = number | Float32Array | Float64Array | Int32Array | Uint8Array;

type ArgsOf<F extends FunctionName> = (typeof SIGNATURES)[F]['args'];
export type Args<F extends FunctionName> = { readonly [A in keyof ArgsOf<F>]: ArgsOf<F>[A] extends 'ptr' ? Operand : number };

export type RangeCall<F extends RangeName> = (units: number, grain: number, args: Args<F>, scratch?: number, stride?: number) => void;
export type DirectCall<F extends DirectName> = (args: Args<F>) => void;
export type ModuleCalls = { readonly [F in RangeName]: RangeCall<F> } & { readonly [F in DirectName]: DirectCall<F> } & {
  /** Threads the range functions run on. */
  readonly threads: number;
  /** The byte address of an operand (checked: a view must look at the module's memory). */
  address(op: Operand): number;
};

const bits = new Int32Array(1);
const bitsF = new Float32Array(bits.buffer);
/** The i32 bits of a float32. */
export function f32bits(x: number): number {
  bitsF[0] = x;
  return bits[0];
}

/** A float64's bits, read as its low and high i32 words (little-endian, as the module's memory). */
const f64View = new DataView(new ArrayBuffer(8));

type DirectFunction = (...words: number[]) => void;

export function moduleCalls(rt: WasmRuntime): ModuleCalls {
  const words = new Int32Array(16);
  const word = (kind: ArgKind, v: Operand | number, fn: string, arg: string): number => {
    if (typeof v === 'number') return kind === 'f32' ? f32bits(v) : v;
    if (!rt.heap.owns(v)) throw new Error(`${fn}: argument ${arg} is not a view into the module's memory`);
    return v.byteOffset;
  };
  const fill = (name: FunctionName, names: readonly string[], kinds: readonly ArgKind[], args: Readonly<Record<string, Operand>>): void => {
    let w = 0;
    for (let i = 0; i < names.length; i++) {
      const v = args[names[i]];
      if (kinds[i] === 'f64' && typeof v === 'number') {
        f64View.setFloat64(0, v, true);
        words[w++] = f64View.getInt32(0, true);
        words[w++] = f64View.getInt32(4, true);
      } else words[w++] = word(kinds[i], v, name, names[i]);
    }
  };
  const calls: Record<string, unknown> = {
    get threads() {
      return rt.threads;
    },
    address: (op: Operand): number => word('ptr', op, 'address', 'operand'),
  };
  for (const name of Object.keys(SIGNATURES) as FunctionName[]) {
    const names = argNames(name);
    const kinds = argKinds(name);
    if (SIGNATURES[name].kind === 'range') {
      const id = FN[name as RangeName];
      calls[name] = (units: number, grain: number, args: Readonly<Record<string, Operand>>, scratch = 0, stride = 0): void => {
        fill(name, names, kinds, args);
        rt.pool().run(id, units, grain, scratch, stride, words);
      };
    } else {
      const f = rt.exports[name] as DirectFunction;
      calls[name] = (args: Readonly<Record<string, Operand>>): void => {
        fill(name, names, kinds, args);
        const w = words;
        f(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13]);
      };
    }
  }
  return calls as ModuleCalls;
}
