// The WebAssembly kernels' runtime: one module (module-wat.ts, assembled into
// dist/wasm/), one shared memory, an allocator over that memory, and the
// worker pool that runs the module's range functions on every thread.
//
// Loading: the relaxed-SIMD variant (fused multiply-add) first. V8 ships
// relaxed SIMD from 11.4 (Node 22 on); Node 20's V8 11.3 needs the flag
// --experimental-wasm-relaxed-simd, which later V8s no longer know (setting it
// there prints "Error: unrecognized flag" on every command). So the module is
// compiled without the flag first, and only if that fails on a V8 older than
// 11.4 is the flag set and the compile tried again. If the variant still does
// not compile, plain SIMD128; if neither does (or dist/wasm/ is missing),
// wasmRuntime() returns null with the reason and the callers fall back to the
// TypeScript kernels.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { wasmFile, type WasmVariant } from './files.js';
import { WorkerPool, type PoolFunction } from './pool.js';
import { POOL_FUNCTIONS } from './signatures.js';

const PAGE = 65536;
const ALIGN = 64; // a cache line

/**
 * First-fit allocator over the shared memory. Blocks are handed out once per
 * run (a training pass, a scratch area), never per batch. The memory only
 * grows; views made before a growth stay valid (a shared buffer is never detached).
 */
export class Heap {
  private readonly memory: WebAssembly.Memory;
  private readonly free: Array<{ at: number; bytes: number }> = [];
  private readonly used = new Map<number, number>();
  private top = ALIGN; // address 0 stays unused: a null pointer is never a block
  /** The buffers views of this memory were made on (a growth gives memory.buffer a new object). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  /** A block of at least `bytes` bytes, 64-byte aligned; its address. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const i = this.free.findIndex((f) => f.bytes >= size);
    let at: number;
    if (i >= 0) {
      const f = this.free[i];
      at = f.at;
      if (f.bytes === size) this.free.splice(i, 1);
      else {
        f.at += size;
        f.bytes -= size;
      }
    } else {
      at = this.top;
      this.top += size;
      const short = this.top - this.memory.buffer.byteLength;
      if (short > 0) this.memory.grow(Math.ceil(short / PAGE));
    }
    this.used.set(at, size);
    return at;
  }

  /** Give a block back (merged with free neighbours). */
  release(at: number): void {
    const size = this.used.get(at);
    if (size === undefined) throw new Error(`heap: ${at} is not an allocated block`);
    this.used.delete(at);
    this.free.push({ at, bytes: size });
    this.free.sort((a, b) => a.at - b.at);
    for (let j = this.free.length - 1; j > 0; j--) {
      const prev = this.free[j - 1];
      const cur = this.free[j];
      if (prev.at + prev.bytes === cur.at) {
        prev.bytes += cur.bytes;
        this.free.splice(j, 1);
      }
    }
    const last = this.free[this.free.length - 1];
    if (last.at + last.bytes === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }

  /** A Float32Array over `floats` floats at `at`. */
  f32(at: number, floats: number): Float32Array {
    return new Float32Array(this.view(), at, floats);
  }

  f64(at: number, doubles: number): Float64Array {
    return new Float64Array(this.view(), at, doubles);
  }

  i32(at: number, words: number): Int32Array {
    return new Int32Array(this.view(), at, words);
  }

  u8(at: number, bytes: number): Uint8Array {
    return new Uint8Array(this.view(), at, bytes);
  }

  /** Whether `view` looks at this memory (made by f32/i32/u8, or a subarray of one): its byteOffset is then its address. */
  owns(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  private view(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return buffer;
  }
}

export interface WasmRuntime {
  variant: WasmVariant;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Every export by name (calls.ts calls them typed). */
  exports: Readonly<Record<string, unknown>>;
  heap: Heap;
  /** The pool's functions, callable on this thread: fn(u0, u1, scratch, ...args). */
  fns: readonly PoolFunction[];
  /** Threads the range functions run on (the caller's plus workers); 1 until setThreads. */
  readonly threads: number;
  setThreads(n: number): void;
  pool(): WorkerPool;
}

let loaded: { runtime: WasmRuntime | null; reason: string } | null = null;

/** The runtime, or null and why not. Loaded once per process. */
export function wasmRuntime(): { runtime: WasmRuntime | null; reason: string } {
  if (loaded) return loaded;
  const failures: string[] = [];
  for (const variant of ['fma', 'simd'] as const) {
    try {
      const bytes = readFileSync(wasmFile(variant));
      const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
      const module = variant === 'fma' ? compileRelaxed(bytes) : new WebAssembly.Module(bytes);
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      loaded = { runtime: makeRuntime(variant, module, memory, instance.exports), reason: variant };
      return loaded;
    } catch (err) {
      failures.push(`${variant}: ${(err as Error).message}`);
    }
  }
  loaded = { runtime: null, reason: failures.join('; ') };
  return loaded;
}

/** The V8 that relaxed SIMD shipped in, on by default: [major, minor]. */
const RELAXED_SIMD_SHIPPED: readonly [number, number] = [11, 4];
const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** Whether V8 `version` ("11.3.244.8-node.38") predates `[major, minor]`. */
export function v8Before(version: string, [major, minor]: readonly [number, number]): boolean {
  const [a, b] = version.split('.').map((p) => Number.parseInt(p, 10));
  return a < major || (a === major && b < minor);
}

/** Whether this V8 needs the flag for relaxed SIMD (and still knows it). */
export function needsRelaxedSimdFlag(v8 = process.versions.v8): boolean {
  return v8Before(v8, RELAXED_SIMD_SHIPPED);
}

/** Compile the relaxed-SIMD module: as it is, then, on a V8 that needs the flag, with it. */
function compileRelaxed(bytes: BufferSource): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (err) {
    if (!needsRelaxedSimdFlag()) throw err;
    setFlagsFromString(RELAXED_SIMD_FLAG);
    return new WebAssembly.Module(bytes);
  }
}

function makeRuntime(variant: WasmVariant, module: WebAssembly.Module, memory: WebAssembly.Memory, exports: WebAssembly.Exports): WasmRuntime {
  const fns = POOL_FUNCTIONS.map((name) => exports[name] as PoolFunction);
  let pool = new WorkerPool(module, memory, fns, 1);
  return {
    variant,
    module,
    memory,
    exports,
    heap: new Heap(memory),
    fns,
    get threads() {
      return pool.threads;
    },
    setThreads(n) {
      if (n === pool.threads) return;
      pool.close();
      pool = new WorkerPool(module, memory, fns, n);
    },
    pool: () => pool,
  };
}
