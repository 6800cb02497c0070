// Loading the WebAssembly module on any Node: the relaxed-SIMD flag is set only
// on a V8 that needs it (Node 20's 11.3); later V8s ship relaxed SIMD and no
// longer know the flag (Node 24, 26 printed "Error: unrecognized flag" on
// every command). CI runs this suite on Node 20 and on a current release.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsRelaxedSimdFlag, v8Before } from '../../src/kernels/wasm/runtime.js';
import { ROOT } from '../helpers/cli.js';

describe('the relaxed-SIMD flag', () => {
  it.each([
    ['11.3.244.8-node.38', true], // Node 20.20
    ['11.4.0', false],
    ['12.4.254.21-node.33', false], // Node 22
    ['13.6.233.17-node.63', false], // Node 24.22
    ['14.6.202.34-node.40', false], // Node 26.12
    ['10.2.154.26-node.26', true], // Node 18
  ])('V8 %s needs it: %s', (v8, expected) => {
    expect(needsRelaxedSimdFlag(v8)).toBe(expected);
  });

  it('v8Before compares major, then minor', () => {
    expect(v8Before('11.3.9', [11, 4])).toBe(true);
    expect(v8Before('11.4.0', [11, 4])).toBe(false);
    expect(v8Before('12.0.0', [11, 4])).toBe(false);
    expect(v8Before('9.9.9', [11, 4])).toBe(true);
  });

  it(`on this Node (${process.version}) the relaxed-SIMD module loads, and nothing is printed`, () => {
    const module = join(ROOT, 'dist/src/kernels/wasm/runtime.js');
    const script = `const { wasmRuntime } = await import(${JSON.stringify(module)}); const r = wasmRuntime(); console.log(r.runtime?.variant ?? r.reason); process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('fma');
    expect(r.status).toBe(0);
  });
});
