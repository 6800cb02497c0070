// The memory estimates (src/model/memory.ts, src/train/memory.ts): the fast-pass part (src/model/wasm-buffers.ts) equals, block
// for block, what WasmPass allocates in the WebAssembly memory; every config
// of configs/ fits the limit; models and runs that do not are refused with one
// exact line, before anything is allocated.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, type Config } from '../../src/config/schema.js';
import type { Dataset } from '../../src/data/mnist.js';
import { MemoryError } from '../../src/errors.js';
import { wasmRuntime, type WasmRuntime } from '../../src/kernels/wasm/runtime.js';
import { checkModelMemory, formatBytes, loadMemoryProblem, MEMORY_LIMIT_BYTES, parameterCount } from '../../src/model/memory.js';
import { wasmPassBytes } from '../../src/model/wasm-buffers.js';
import { Mlp } from '../../src/model/mlp.js';
import { WasmPass } from '../../src/model/wasm-pass.js';
import { Rng } from '../../src/rng.js';
import { checkTrainMemory, trainMemory } from '../../src/train/memory.js';
import { Trainer } from '../../src/train/trainer.js';
import { ROOT } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';

const SGD = { name: 'sgd', momentum: 0.9 } as const;

function config(raw: Record<string, unknown>): Config {
  return ConfigSchema.parse(raw);
}

/** A dataset of n rows of F pixels, a fraction `ink` of them non-zero (MNIST: about 19%). */
function dataset(n: number, F = 784, ink = 0.19, seed = 1): Dataset {
  const rng = new Rng(seed, 0);
  const images = new Uint8Array(n * F);
  for (let i = 0; i < images.length; i++) if (rng.uniform() < ink) images[i] = 1 + Math.floor(rng.uniform() * 255);
  return { name: 'train', n, features: F, images, labels: new Uint8Array(n) };
}

/** The bytes of the heap blocks a WasmPass holds (the allocator's sizes, 64-byte rounded). */
function heapBytes(rt: WasmRuntime, pass: WasmPass): number {
  const used = (rt.heap as unknown as { used: Map<number, number> }).used;
  const blocks = (pass as unknown as { blocks: number[] }).blocks;
  return blocks.reduce((sum, ptr) => sum + used.get(ptr)!, 0);
}

describe('parameterCount', () => {
  it.each([[[784, 300, 10]], [[784, 10]], [[3, 2]], [[6, 5, 4, 3, 2]], [[784, 2500, 2000, 1500, 1000, 500, 10]]])('%j = Mlp.paramCount', (layers) => {
    expect(parameterCount(layers)).toBe(Mlp.paramCount(layers));
  });
});

describe('wasmPassBytes = the bytes WasmPass allocates', () => {
  const rt = wasmRuntime().runtime!;
  // Slots (batch <= 1024), larger batches (no CSR, per-thread CSR blocks in the
  // scratch; with a small first layer the gemm panels outgrow them), narrow and
  // wide second layers, a wide first layer that is not a multiple of 16 (panel
  // padding), deep nets, hidden layers whose W^T rows are padded (wasm-layout.ts).
  it.each<[number[], number]>([
    [[784, 300, 10], 100],
    [[784, 300, 10], 1],
    [[784, 300, 10], 1024],
    [[784, 300, 10], 1025],
    [[784, 300, 10], 6000],
    [[30, 20, 10], 20000],
    [[784, 17, 10], 33],
    [[784, 100, 40, 10], 128],
    [[784, 64, 64, 64, 3], 7],
    [[5, 3], 2],
    [[784, 1024, 256, 10], 128], // rows padded to rowStride (1040, 272): the delta copy, delta^T and dA^T
    [[784, 1024, 256, 10], 2000], // the same wide layers, a batch too large for them
  ])('%j, batch %i', (layers, capacity) => {
    const model = new Mlp({ layers, hidden: 'sigmoid', output: 'sigmoid' });
    const pass = new WasmPass(model, rt, { capacity, optimizer: SGD });
    try {
      expect(heapBytes(rt, pass)).toBe(wasmPassBytes(layers, capacity, 1, rt.threads));
    } finally {
      pass.dispose();
    }
  });
});

describe('relu: the hidden layers\' CSR slots (wasm-sparse-layer.ts) are counted', () => {
  const rt = wasmRuntime().runtime!;
  it.each<[number[], number]>([
    [[784, 1024, 1024, 10], 128],
    [[784, 300, 10], 100], // no layer after a relu but the narrow output: nothing more
    [[784, 1024, 256, 10], 1500], // over SLOT_ROWS: dense products, no slots
  ])('%j, batch %i', (layers, capacity) => {
    const model = new Mlp({ layers, hidden: 'relu', output: 'softmax' });
    const pass = new WasmPass(model, rt, { capacity, optimizer: SGD });
    try {
      expect(heapBytes(rt, pass)).toBe(wasmPassBytes(layers, capacity, 1, rt.threads, 1, 'relu'));
    } finally {
      pass.dispose();
    }
  });
});

describe('maxout: memory counts the real shapes (W [H k, in]; Z, delta H k wide, A, dA H)', () => {
  const rt = wasmRuntime().runtime!;
  it.each<[number[], number, number]>([
    [[784, 240, 10], 100, 2],
    [[784, 7, 5, 10], 33, 3], // 21 rows (panel padding), then a narrow 15-row layer
    [[784, 100, 40, 10], 1100, 5], // no CSR slots; 200 -> 500 rows is the widest dense W for dA
  ])('wasmPassBytes(%j, batch %i, %i pieces) = the bytes WasmPass allocates', (layers, capacity, pieces) => {
    const model = new Mlp({ layers, hidden: 'maxout', output: 'softmax', maxout_pieces: pieces });
    const pass = new WasmPass(model, rt, { capacity, optimizer: SGD });
    try {
      expect(heapBytes(rt, pass)).toBe(wasmPassBytes(layers, capacity, 1, rt.threads, pieces));
      expect(wasmPassBytes(layers, capacity, 1, rt.threads, pieces)).toBeGreaterThan(wasmPassBytes(layers, capacity, 1, rt.threads));
    } finally {
      pass.dispose();
    }
  });

  it('parameterCount and the reference pass\'s batch buffers', () => {
    expect(parameterCount([784, 240, 10], 3)).toBe(Mlp.paramCount([784, 240, 10], 3));
    expect(parameterCount([784, 240, 10], 3)).toBe(784 * 720 + 720 + 2410);
    const train = dataset(1000);
    const cfg = (hidden: 'maxout' | 'relu'): Config =>
      config({ model: { layers: [784, 240, 10], hidden, ...(hidden === 'maxout' && { maxout_pieces: 3 }) }, training: { kernel: 'blocked' } });
    const maxout = trainMemory(cfg('maxout'), train, null);
    const relu = trainMemory(cfg('relu'), train, null);
    // parameters, model + checkpoint copy + the reference pass's grads, each with sgd's velocity: 6 f P;
    // batch: Z and delta of 720 columns in place of 240, A and dA unchanged
    expect(maxout.parameters - relu.parameters).toBe(6 * 4 * (784 * 480 + 480));
    expect(maxout.batch - relu.batch).toBe(4 * 100 * 2 * 480);
  });
});

describe('the limit', () => {
  it('is 2 GiB: under the 4 GiB WebAssembly memory (65536 pages) and the 2^32 bytes of the largest Buffer', () => {
    expect(MEMORY_LIMIT_BYTES).toBe(2 ** 31);
    expect(MEMORY_LIMIT_BYTES).toBeLessThan(65536 * 65536);
  });

  it.each([
    [0, '0.0 KiB'],
    [7168, '7.0 KiB'],
    [47_040_016, '44.9 MiB'],
    [2 ** 31, '2.00 GiB'],
    [3.18e12, '2961.61 GiB'],
    [4e30, '3.73e+21 GiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('every config of configs/ fits, on 60,000 MNIST-like images', () => {
  const train = dataset(60000);
  const files = readdirSync(join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml') && f !== 'table.yaml' && f !== 'ci.yaml');
  it.each(files)('%s', (file) => {
    const raw = (parseYaml(readFileSync(join(ROOT, 'configs', file), 'utf8')) ?? {}) as Record<string, unknown>;
    const cfg = config(raw);
    const validation = cfg.data.validation > 0 ? dataset(cfg.data.validation, 784, 0.19, 2) : null;
    const m = trainMemory(cfg, train, validation);
    // The largest is the full batch of seed-fullbatch: X, four 60000 x 310 buffers and the compact CSR, some 0.6 GiB.
    expect(m.total).toBeLessThan(MEMORY_LIMIT_BYTES / 2);
    expect(() => checkTrainMemory(cfg, train, validation)).not.toThrow();
  });
});

describe('refusals: one exact line, before anything is allocated', () => {
  const train = dataset(1000);

  it.each<[number[], number, string]>([
    [[784, 1_000_000_000, 10], 4, 'model 784-1000000000-10: its 795,000,000,010 parameters alone need 2961.61 GiB (float32), more than the 2 GiB memory limit'],
    [[784, 1_000_000, 10], 4, 'model 784-1000000-10: its 795,000,010 parameters alone need 2.96 GiB (float32), more than the 2 GiB memory limit'],
    [[784, 400_000, 10], 8, 'model 784-400000-10: its 318,000,010 parameters alone need 2.37 GiB (float64), more than the 2 GiB memory limit'],
    [[1e15, 1e15], 4, 'model 1000000000000000-1000000000000000: its 1,000,000,000,000,001,000,000,000,000,000 parameters alone need 3.73e+21 GiB (float32), more than the 2 GiB memory limit'],
  ])('a model %j of %i-byte floats', (layers, floatBytes, message) => {
    expect(errorOf(MemoryError, () => checkModelMemory(layers, floatBytes)).message).toBe(message);
    // Mlp checks first: no RangeError, no gigabytes.
    const Float = floatBytes === 8 ? Float64Array : Float32Array;
    expect(errorOf(MemoryError, () => new Mlp({ layers, hidden: 'sigmoid', output: 'sigmoid' }, Float)).message).toBe(message);
  });

  it('the largest model that fits is allowed: 2 GiB of parameters', () => {
    // 784 I + I + 10 I + 10 = 795 I + 10 parameters; float32.
    const I = Math.floor((MEMORY_LIMIT_BYTES / 4 - 10) / 795);
    expect(() => checkModelMemory([784, I, 10], 4)).not.toThrow();
    expect(() => checkModelMemory([784, I + 1, 10], 4)).toThrow(MemoryError);
  });

  it('a model that fits but whose training does not: the Trainer refuses before its passes allocate', () => {
    const cfg = config({ model: { layers: [784, 100_000, 10] }, training: { batch_size: 100, kernel: 'wasm', threads: 1 } });
    const message =
      'model 784-100000-10, batch 100: training needs about 2.23 GiB, more than the 2 GiB memory limit ' +
      '(79,500,010 parameters and their copies 2.07 GiB, batch buffers 156.3 MiB, data 770.5 KiB)';
    expect(errorOf(MemoryError, () => checkTrainMemory(cfg, train, null)).message).toBe(message);
  });

  it('a full batch of wide layers: the activations are what does not fit', () => {
    const big = dataset(60000, 784, 0);
    const cfg = config({ model: { layers: [784, 4000, 10] }, training: { batch_size: 'full', kernel: 'blocked' } });
    const message =
      'model 784-4000-10, batch 60000: training needs about 3.88 GiB, more than the 2 GiB memory limit ' +
      '(3,180,010 parameters and their copies 72.8 MiB, batch buffers 3.76 GiB, data 45.1 MiB)';
    expect(errorOf(MemoryError, () => checkTrainMemory(cfg, big, null)).message).toBe(message);
    // The Trainer's first act: the model (13 MB) exists, no pass does.
    const model = new Mlp(cfg.model);
    expect(errorOf(MemoryError, () => new Trainer(cfg, model, big, null)).message).toBe(message);
  });

  it('a validation split adds the best copy and the validation chunk', () => {
    const cfg = config({ model: { layers: [784, 300, 10] } });
    const without = trainMemory(cfg, train, null);
    const withVal = trainMemory(cfg, train, dataset(500));
    const P = parameterCount([784, 300, 10]);
    // best copy + its tensor in the checkpoint; the chunk's X, Z, A, targets and labels; 500 more rows of data and order
    expect(withVal.parameters - without.parameters).toBe(2 * 4 * P);
    expect(withVal.batch - without.batch).toBe(4 * 500 * (784 + 2 * 310) + 4 * 500 * 10 + 500);
    expect(withVal.data - without.data).toBe(500 * 785 + 4 * 500);
  });

  it('loading weights: the file, the decoded values, the model and one chunk of activations', () => {
    expect(loadMemoryProblem([784, 300, 10], 954_112, 4, 1000)).toBeNull();
    expect(loadMemoryProblem([784, 200_000_000, 10], 0, 4, 1000)).toBe(
      'a 784-200000000-10 model needs about 2674.76 GiB to load and evaluate, more than the 2 GiB memory limit ' +
        '(file 0.0 KiB, 159,000,000,010 values decoded 592.32 GiB, model 592.32 GiB, 1000 rows of activations 1490.12 GiB)',
    );
    // 16,800 layers of 16 units: a 16 MB file whose evaluation chunk alone is 2 GiB.
    const deep = [784, ...new Array<number>(16_800).fill(16), 10];
    expect(loadMemoryProblem(deep, 17_000_000, 4, 1000)).toBe(
      'a 784-16-16-...-16-10 (16802 widths) model needs about 2.06 GiB to load and evaluate, more than the 2 GiB memory limit ' +
        '(file 16.2 MiB, 4,582,058 values decoded 17.5 MiB, model 17.5 MiB, 1000 rows of activations 2.01 GiB)',
    );
  });
});
