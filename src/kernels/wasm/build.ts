// Build step (npm's `prepare`, after tsc): assemble the generated WebAssembly
// text into dist/wasm/. Two variants: with relaxed-SIMD fused multiply-add,
// and plain SIMD (mul + add) for engines without relaxed SIMD.
//   node dist/src/kernels/wasm/build.js
import { mkdirSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { moduleWat } from './module-wat.js';
import { WASM_DIR, WASM_FILES } from './files.js';

const wabt = await wabtInit();
mkdirSync(WASM_DIR, { recursive: true });
for (const [variant, file] of Object.entries(WASM_FILES)) {
  const fma = variant === 'fma';
  const features = { simd: true, relaxed_simd: fma, threads: true }; // threads: the memory is shared with workers
  const mod = wabt.parseWat(`kernels-${variant}.wat`, moduleWat(fma), features);
  // wabt.js's validate() takes the features too (its index.d.ts omits the parameter).
  (mod.validate as (this: typeof mod, f: typeof features) => void).call(mod, features);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  writeFileSync(new URL(file, WASM_DIR), buffer);
}
