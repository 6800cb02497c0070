// The table of the module's functions (src/kernels/wasm/signatures.ts) against
// the built module (dist/wasm/, from `npm run build`): every function is
// exported with the arity the table gives it, the pool's list and ids follow
// the table, the WAT parameter lists are generated from it, and the named
// calls of calls.ts pass their operands in the table's order and refuse a view
// that is not in the module's memory.
import { describe, expect, it } from 'vitest';
import { moduleCalls } from '../../src/kernels/wasm/calls.js';
import { wasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { argWords, FN, MAX_ARGS, POOL_FUNCTIONS, SIGNATURES, watParams, type FunctionName } from '../../src/kernels/wasm/signatures.js';

const rt = wasmRuntime().runtime!;
const NAMES = Object.keys(SIGNATURES) as FunctionName[];
/** Words calls.ts hands a direct function (w[0] .. w[13]). */
const DIRECT_WORDS = 14;

describe('signatures: one table for the module functions', () => {
  it('the module loads', () => {
    expect(rt, wasmRuntime().reason).not.toBeNull();
  });

  it.each(NAMES)('%s is exported with the table arity in words (+ u0, u1, S for a range function)', (name) => {
    const fn = rt.exports[name];
    expect(typeof fn).toBe('function');
    const extra = SIGNATURES[name].kind === 'range' ? 3 : 0;
    // an exported WebAssembly function's length is its parameter count
    expect((fn as (...a: number[]) => void).length).toBe(argWords(name).length + extra);
    expect(argWords(name).length).toBeLessThanOrEqual(SIGNATURES[name].kind === 'range' ? MAX_ARGS : DIRECT_WORDS);
  });

  it('the module exports no function the table lacks', () => {
    const exported = WebAssembly.Module.exports(rt.module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name)
      .sort();
    expect(exported).toEqual([...NAMES].sort());
  });

  it('POOL_FUNCTIONS are the range functions in table order, FN their indices, and the runtime runs the same functions', () => {
    expect(POOL_FUNCTIONS).toEqual(NAMES.filter((name) => SIGNATURES[name].kind === 'range'));
    expect(Object.keys(FN)).toEqual(POOL_FUNCTIONS);
    POOL_FUNCTIONS.forEach((name, i) => expect(FN[name], name).toBe(i));
    for (const name of NAMES) if (SIGNATURES[name].kind === 'direct') expect(FN, name).not.toHaveProperty(name);
    expect(rt.fns.length).toBe(POOL_FUNCTIONS.length);
    POOL_FUNCTIONS.forEach((name, i) => expect(rt.fns[i] === rt.exports[name], name).toBe(true));
  });

  it('watParams writes the export and the i32 parameters in table order', () => {
    expect(watParams('sigmoid_backward')).toBe(
      '(export "sigmoid_backward") (param $u0 i32) (param $u1 i32) (param $S i32) (param $dZ i32) (param $dA i32) (param $A i32)',
    );
    expect(watParams('transpose')).toBe('(export "transpose") (param $dst i32) (param $src i32) (param $rows i32) (param $cols i32)');
    // an f64 goes as two words
    expect(watParams('l2_grad')).toBe(
      '(export "l2_grad") (param $u0 i32) (param $u1 i32) (param $S i32) (param $G i32) (param $W i32) (param $lambda_lo i32) (param $lambda_hi i32)',
    );
  });

  it('named calls pass operands by name: transpose (direct) and sgd (range, f32 arguments as bits)', () => {
    const k = moduleCalls(rt);
    const at = rt.heap.alloc(4 * 24);
    const src = rt.heap.f32(at, 6); // [2, 3]
    const dst = rt.heap.f32(at + 24, 6); // [3, 2]
    src.set([1, 2, 3, 4, 5, 6]);
    dst.fill(NaN);
    k.transpose({ dst, src, rows: 2, cols: 3 });
    expect(Array.from(dst)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(src)).toEqual([1, 2, 3, 4, 5, 6]);
    // v = mu v + scale g, p -= lr v with values exact in binary: any swapped operand changes the result
    const P = rt.heap.f32(at + 48, 4).fill(1);
    const V = rt.heap.f32(at + 64, 4).fill(2);
    const G = rt.heap.f32(at + 80, 4).fill(8);
    k.sgd(4, 4, { P, V, G, mu: 0.5, scale: 0.25, lr: 0.125 });
    expect(Array.from(V)).toEqual([3, 3, 3, 3]); // 0.5 * 2 + 0.25 * 8
    expect(Array.from(P)).toEqual([0.625, 0.625, 0.625, 0.625]); // 1 - 0.125 * 3
    expect(Array.from(G)).toEqual([8, 8, 8, 8]);
    rt.heap.release(at);
  });

  it('a named call refuses a view that is not in the module memory', () => {
    const k = moduleCalls(rt);
    const at = rt.heap.alloc(16);
    const inModule = rt.heap.f32(at, 4);
    expect(() => k.sigmoid(4, 4, { A: inModule, Z: new Float32Array(4) })).toThrow("sigmoid: argument Z is not a view into the module's memory");
    expect(() => k.transpose({ dst: new Float32Array(4), src: inModule, rows: 2, cols: 2 })).toThrow(
      "transpose: argument dst is not a view into the module's memory",
    );
    expect(() => k.address(new Float32Array(4))).toThrow("address: argument operand is not a view into the module's memory");
    rt.heap.release(at);
  });
});
