// Where the build puts the assembled kernels (dist/wasm/, beside dist/src/),
// and where the loader finds them: from dist/src/kernels/wasm/ when running
// the compiled code, from src/kernels/wasm/ when the tests run the sources.
import { existsSync } from 'node:fs';

export const WASM_DIR = new URL('../../../wasm/', import.meta.url);
const FROM_SOURCES = new URL('../../../dist/wasm/', import.meta.url);

export const WASM_FILES = {
  fma: 'gemm-fma.wasm', // relaxed SIMD: f32x4.relaxed_madd
  simd: 'gemm-simd.wasm', // SIMD128: f32x4.mul + f32x4.add
} as const;

export type WasmVariant = keyof typeof WASM_FILES;

/** The built file of a variant (the first place it exists; the dist one if neither, for the error). */
export function wasmFile(variant: WasmVariant): URL {
  const compiled = new URL(WASM_FILES[variant], WASM_DIR);
  const sources = new URL(WASM_FILES[variant], FROM_SOURCES);
  return existsSync(compiled) || !existsSync(sources) ? compiled : sources;
}
