// model.safetensors: an Mlp saved and loaded back bit for bit, under the names and
// shapes of PyTorch's nn.Sequential of nn.Linear (weight [out_features, in_features],
// bias [out_features]), with the config stored beside it; and files that do not
// describe such a model -> the exact one-line error.
import { rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { WeightsFileError } from '../../src/errors.js';
import { Mlp, type MlpSpec } from '../../src/model/mlp.js';
import { Pass } from '../../src/model/pass.js';
import { EVAL_CHUNK } from '../../src/eval/evaluate.js';
import { loadMemoryProblem } from '../../src/model/memory.js';
import { MAX_FILE_BYTES, readSafetensors, writeSafetensors } from '../../src/output/safetensors.js';
import { FORMAT, FORMAT_VERSION, loadWeights, saveWeights } from '../../src/output/weights.js';
import { tempDir } from '../helpers/cli.js';
import { errorOf } from '../helpers/errors.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('mlp-weights-');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const fresh = (name = 'model.safetensors'): string => join(dir, `${counter++}-${name}`);

function configFor(layers: number[], hidden: MlpSpec['hidden'] = 'sigmoid', output: MlpSpec['output'] = 'sigmoid'): Config {
  const c = defaultConfig();
  c.model = { ...c.model, layers, hidden, output, seed: 7 };
  c.training.lr = 0.25;
  return c;
}

/** A seeded model with non-zero biases, so that W and b are told apart. */
function model(layers: number[], Float: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): Mlp {
  const m = new Mlp({ layers, hidden: 'tanh', output: 'softmax' }, Float);
  m.init('glorot_uniform', 3, 'zero');
  m.b.forEach((b, l) => b.forEach((_, o) => (b[o] = 0.01 * (o + 1) * (l % 2 === 0 ? 1 : -1))));
  return m;
}

const bits32 = (a: ArrayLike<number>): number[] => [...new Uint32Array(Float32Array.from(a).buffer)];

const weightsErrorOf = (fn: () => unknown): WeightsFileError => errorOf(WeightsFileError, fn);

describe('saveWeights -> loadWeights', () => {
  it.each<[number[]]>([[[784, 300, 10]], [[5, 4, 3]], [[3, 2]], [[6, 5, 4, 3, 2]]])('layers %j: every parameter bit-identical', (layers) => {
    const m = model(layers);
    const f = fresh();
    saveWeights(f, m, configFor(layers));
    const loaded = loadWeights(f);
    expect(loaded.layers).toEqual(layers);
    const back = loaded.build({ hidden: 'tanh', output: 'softmax' });
    expect(back.spec).toEqual(m.spec);
    expect(back.params.length).toBe(Mlp.paramCount(layers));
    expect(bits32(back.params)).toEqual(bits32(m.params));
  });

  it('the file holds PyTorch names and shapes: layers.{l}.weight [out, in], layers.{l}.bias [out]', () => {
    const m = model([5, 4, 3]);
    const f = fresh();
    saveWeights(f, m, configFor([5, 4, 3]));
    const { tensors } = readSafetensors(f);
    expect([...tensors].map(([name, t]) => [name, t.shape])).toEqual([
      ['layers.0.weight', [4, 5]],
      ['layers.0.bias', [4]],
      ['layers.1.weight', [3, 4]],
      ['layers.1.bias', [3]],
    ]);
    expect([...(tensors.get('layers.1.bias')?.data ?? [])]).toEqual([...m.b[1]]);
  });

  it('the stored tensors compute what the model computes, read with PyTorch semantics y = x W^T + b', () => {
    // One softmax layer 5 -> 3: the reference is float64 from the file's tensors alone,
    // y_o = softmax_o(sum_i weight[o][i] x_i + bias[o]); the model runs in float32,
    // whose 5-term dot products and exp err by ~1e-7 relative, hence atol 1e-6.
    const m = model([5, 3]);
    const f = fresh();
    saveWeights(f, m, configFor([5, 3]));
    const { tensors } = readSafetensors(f);
    const W = tensors.get('layers.0.weight')?.data ?? new Float32Array(0);
    const b = tensors.get('layers.0.bias')?.data ?? new Float32Array(0);
    const X = Float32Array.from([0.5, -1, 0.25, 2, -0.75, 1, 0, 0, 0, -2]); // 2 rows of 5
    const pass = new Pass(m, 2, 'naive', false);
    const Y = pass.forward(2, X);
    for (let n = 0; n < 2; n++) {
      const z = [0, 1, 2].map((o) => b[o] + [0, 1, 2, 3, 4].reduce((s, i) => s + W[o * 5 + i] * X[n * 5 + i], 0));
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const sum = e.reduce((s, v) => s + v, 0);
      for (let o = 0; o < 3; o++) expect(Math.abs(Y[n * 3 + o] - e[o] / sum)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('the metadata holds the format and the resolved config, recovered by loadWeights', () => {
    const cfg = configFor([5, 4, 3], 'relu', 'softmax');
    cfg.loss = 'cross_entropy';
    const f = fresh();
    saveWeights(f, model([5, 4, 3]), cfg);
    const { metadata } = readSafetensors(f);
    expect(metadata.format).toBe(FORMAT);
    expect(metadata.format_version).toBe(FORMAT_VERSION);
    expect(JSON.parse(metadata.config)).toEqual(cfg);
    const stored = loadWeights(f).storedConfig as Config;
    expect(stored).toEqual(cfg);
    expect([stored.model.layers, stored.model.hidden, stored.loss, stored.training.lr]).toEqual([[5, 4, 3], 'relu', 'cross_entropy', 0.25]);
  });

  it('saves another buffer of the same layout when given one (the best epoch)', () => {
    const m = model([5, 4, 3]);
    const best = Float32Array.from(m.params, (x, k) => x + k);
    const f = fresh();
    saveWeights(f, m, configFor([5, 4, 3]), best);
    const back = loadWeights(f).build({ hidden: 'tanh', output: 'softmax' });
    expect(bits32(back.params)).toEqual(bits32(best));
  });

  it('a float64 model is stored as float32 and builds as float64 or float32', () => {
    const m = model([4, 3, 2], Float64Array);
    const f = fresh();
    saveWeights(f, m, configFor([4, 3, 2]));
    const loaded = loadWeights(f);
    const b64 = loaded.build({ hidden: 'tanh', output: 'softmax' }, Float64Array);
    expect(b64.params).toBeInstanceOf(Float64Array);
    expect([...b64.params]).toEqual([...m.params].map(Math.fround));
    const b32 = loaded.build({ hidden: 'tanh', output: 'softmax' });
    expect(b32.params).toBeInstanceOf(Float32Array);
    expect(bits32(b32.params)).toEqual(bits32(m.params));
  });

  it('each build is a new model: changing one leaves the next build as saved', () => {
    const m = model([3, 2]);
    const f = fresh();
    saveWeights(f, m, configFor([3, 2]));
    const loaded = loadWeights(f);
    const a = loaded.build({ hidden: 'sigmoid', output: 'sigmoid' });
    a.params.fill(9);
    expect(bits32(loaded.build({ hidden: 'sigmoid', output: 'sigmoid' }).params)).toEqual(bits32(m.params));
  });

  it('a foreign file (no metadata) loads with storedConfig null', () => {
    const f = fresh();
    writeSafetensors(f, [
      ['layers.0.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['layers.0.bias', { shape: [2], data: Float32Array.from([-1, -2]) }],
    ]);
    const loaded = loadWeights(f);
    expect(loaded.layers).toEqual([3, 2]);
    expect(loaded.storedConfig).toBeNull();
    const m = loaded.build({ hidden: 'relu', output: 'softmax' });
    expect([...m.W[0]]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...m.b[0]]).toEqual([-1, -2]);
  });
});

describe('maxout weights: W_l [H k, in] (pieces fastest), model.layers in units', () => {
  const spec = { hidden: 'maxout', output: 'softmax', maxout_pieces: 3 } as const;

  it('saveWeights -> loadWeights: the shapes PyTorch\'s Linear(in, H k) has, k read back from them, every parameter and output bit-identical', () => {
    const layers = [6, 4, 3, 2];
    const m = new Mlp({ layers, ...spec });
    m.init('he_uniform', 5, 'zero');
    m.b.forEach((b, l) => b.forEach((_, o) => (b[o] = 0.01 * (o + 1 + l))));
    const f = fresh();
    const config = configFor(layers, 'maxout', 'softmax');
    config.model.maxout_pieces = 3;
    saveWeights(f, m, config);
    const { tensors, metadata } = readSafetensors(f);
    expect([...tensors].map(([name, t]) => [name, t.shape])).toEqual([
      ['layers.0.weight', [12, 6]],
      ['layers.0.bias', [12]],
      ['layers.1.weight', [9, 4]],
      ['layers.1.bias', [9]],
      ['layers.2.weight', [2, 3]],
      ['layers.2.bias', [2]],
    ]);
    expect(JSON.parse(metadata.config!).model).toMatchObject({ layers, hidden: 'maxout', maxout_pieces: 3 });
    const loaded = loadWeights(f);
    expect(loaded.layers).toEqual(layers);
    expect(loaded.pieces).toBe(3);
    const back = loaded.build(spec);
    expect(back.spec).toEqual(m.spec);
    expect(bits32(back.params)).toEqual(bits32(m.params));
    const X = Float32Array.from({ length: 5 * 6 }, (_, i) => Math.sin(i));
    const y = new Pass(m, 5, 'naive', false).forward(5, X).slice();
    expect(bits32(new Pass(back, 5, 'naive', false).forward(5, X))).toEqual(bits32(y));
  });

  it.each([
    [{ hidden: 'tanh', output: 'softmax' }, 'the tensor shapes of layers [6,4,3,2] are those of maxout units of 3 pieces, not tanh units'],
    [{ hidden: 'maxout', output: 'softmax', maxout_pieces: 2 }, 'the tensor shapes of layers [6,4,3,2] are those of maxout units of 3 pieces, not maxout units of 2 pieces'],
  ] as const)('build(%j) refuses the maxout file, one line naming it', (other, problem) => {
    const m = new Mlp({ layers: [6, 4, 3, 2], ...spec });
    const f = fresh();
    saveWeights(f, m, configFor([6, 4, 3, 2]));
    expect(weightsErrorOf(() => loadWeights(f).build(other)).message).toBe(`${f}: ${problem}`);
  });

  it('a plain file is not maxout: build with maxout units refuses it; without hidden layers k does not matter', () => {
    const f = fresh();
    saveWeights(f, model([5, 4, 3]), configFor([5, 4, 3]));
    expect(loadWeights(f).pieces).toBe(1);
    expect(weightsErrorOf(() => loadWeights(f).build(spec)).message).toBe(
      `${f}: the tensor shapes of layers [5,4,3] are those of one pre-activation per unit, not maxout units of 3 pieces`,
    );
    const g = fresh();
    saveWeights(g, model([5, 3]), configFor([5, 3]));
    expect(loadWeights(g).build(spec).params.length).toBe(18);
  });
});

describe('loadWeights: file -> exact error', () => {
  type T = [string, { shape: number[]; data: Float32Array }];
  const t = (name: string, ...shape: number[]): T => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }];
  const layer = (l: number, O: number, I: number): T[] => [t(`layers.${l}.weight`, O, I), t(`layers.${l}.bias`, O)];

  it.each<[string, T[], Record<string, string>, string | RegExp]>([
    ['no tensors at all', [], {}, 'no tensors named layers.0.weight, layers.0.bias, ... (found: none)'],
    [
      'a Keras-style file',
      [t('dense/kernel', 3, 2), t('dense/bias', 2)],
      {},
      'no tensors named layers.0.weight, layers.0.bias, ... (found: dense/kernel, dense/bias)',
    ],
    ['layer numbering from 1', [...layer(1, 2, 3)], {}, 'no tensors named layers.0.weight, layers.0.bias, ... (found: layers.1.weight, layers.1.bias)'],
    ['a missing bias', [t('layers.0.weight', 4, 5)], {}, 'missing tensor layers.0.bias'],
    ['a missing weight', [t('layers.0.bias', 4)], {}, 'missing tensor layers.0.weight'],
    ['the second layer missing its bias', [...layer(0, 4, 5), t('layers.1.weight', 3, 4)], {}, 'missing tensor layers.1.bias'],
    ['a 1-D weight', [t('layers.0.weight', 20), t('layers.0.bias', 4)], {}, 'tensor layers.0.weight: expected 2 dimensions [out, in], found [20]'],
    ['a 3-D weight', [t('layers.0.weight', 4, 5, 1), t('layers.0.bias', 4)], {}, 'tensor layers.0.weight: expected 2 dimensions [out, in], found [4,5,1]'],
    ['a bias of the wrong length', [t('layers.0.weight', 4, 5), t('layers.0.bias', 5)], {}, 'tensor layers.0.bias: expected shape [4], found [5]'],
    ['a 2-D bias', [t('layers.0.weight', 4, 5), t('layers.0.bias', 4, 1)], {}, 'tensor layers.0.bias: expected shape [4], found [4,1]'],
    [
      'layers that do not chain (a transposed weight)',
      [...layer(0, 4, 5), t('layers.1.weight', 3, 5), t('layers.1.bias', 3)],
      {},
      'tensor layers.1.weight: expected 4 inputs (the outputs of layer 0), found 5',
    ],
    [
      'the third layer does not chain',
      [...layer(0, 4, 5), ...layer(1, 3, 4), ...layer(2, 2, 4)],
      {},
      'tensor layers.2.weight: expected 3 inputs (the outputs of layer 1), found 4',
    ],
    [
      'maxout layers of different pieces (k = 2 from the first, 3 rows per input in the second)',
      [...layer(0, 8, 5), ...layer(1, 6, 4), ...layer(2, 2, 2)],
      {},
      'tensor layers.2.weight: expected 3 inputs (the 6 outputs of layer 1 as maxout units of 2 pieces), found 2',
    ],
    ['an extra tensor', [...layer(0, 4, 5), t('running_mean', 4)], {}, 'unexpected tensors: running_mean'],
    ['a layer after a gap', [...layer(0, 4, 5), ...layer(2, 3, 4)], {}, 'unexpected tensors: layers.2.weight, layers.2.bias'],
    ['config metadata not JSON', [...layer(0, 2, 3)], { config: '{lr: 0.5' }, /^FILE: metadata config is not valid JSON \(.+\)$/],
  ])('%s', (_name, tensors, metadata, expected) => {
    const f = fresh();
    writeSafetensors(f, tensors, metadata);
    const err = weightsErrorOf(() => loadWeights(f));
    if (typeof expected === 'string') expect(err.message).toBe(`${f}: ${expected}`);
    else expect(err.message.replace(f, 'FILE')).toMatch(expected);
    expect(err.message).not.toContain('\n');
    expect(err.file).toBe(f);
  });

  it('NaN weights (a diverged model saved anyway) are refused on load', () => {
    const m = model([5, 4, 3]);
    m.W[1][2] = NaN;
    const f = fresh();
    saveWeights(f, m, configFor([5, 4, 3]));
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: tensor layers.1.weight: value 2 is NaN`);
  });

  it('infinite biases are refused on load', () => {
    const m = model([5, 4, 3]);
    m.b[0][3] = -Infinity;
    const f = fresh();
    saveWeights(f, m, configFor([5, 4, 3]));
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: tensor layers.0.bias: value 3 is infinite`);
  });

  it('a missing file', () => {
    const f = join(dir, 'runs', 'nope', 'model.safetensors');
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: no such file`);
  });
});

describe('loadWeights: shapes and memory checked before any value is decoded', () => {
  type T = [string, { shape: number[]; data: Float32Array }];
  const t = (name: string, ...shape: number[]): T => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }];
  /** [784, 16 x hidden, 10]: a small file whose evaluation chunk (1000 rows of every unit) is large. */
  const deep = (hidden: number): { layers: number[]; tensors: T[] } => {
    const layers = [784, ...new Array<number>(hidden).fill(16), 10];
    const tensors: T[] = [];
    for (let l = 0; l + 1 < layers.length; l++) tensors.push(t(`layers.${l}.weight`, layers[l + 1], layers[l]), t(`layers.${l}.bias`, layers[l + 1]));
    return { layers, tensors };
  };

  it('a layout error is reported before a bad value: the file is refused on its shapes first', () => {
    const W = t('layers.0.weight', 4, 5);
    W[1].data[3] = NaN;
    const f = fresh();
    writeSafetensors(f, [W]);
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: missing tensor layers.0.bias`);
  });

  it('16,800 layers of 16 units: a 20 MB file whose evaluation needs 2 GiB of activations is refused', () => {
    const { layers, tensors } = deep(16_800);
    const f = fresh();
    writeSafetensors(f, tensors);
    const problem = loadMemoryProblem(layers, statSync(f).size, 4, EVAL_CHUNK);
    expect(problem).toMatch(/^a 784-16-16-\.\.\.-16-10 \(16802 widths\) model needs about 2\.06 GiB to load and evaluate, more than the 2 GiB memory limit \(file 20\.\d MiB, 4,582,058 values/);
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: ${problem}`);
  });

  it('10,000 layers of 16 units fit as float32 (mlp-eval) but not as float64 (mlp-grad): build refuses before allocating', () => {
    const { layers, tensors } = deep(10_000);
    const f = fresh();
    writeSafetensors(f, tensors);
    const loaded = loadWeights(f);
    expect(loaded.layers).toEqual(layers);
    expect(loaded.build({ hidden: 'relu', output: 'softmax' }).params.length).toBe(Mlp.paramCount(layers));
    const problem = loadMemoryProblem(layers, statSync(f).size, 8, EVAL_CHUNK);
    expect(problem).toMatch(/^a 784-16-16-\.\.\.-16-10 \(10002 widths\) model needs about 2\.4\d GiB to load and evaluate, more than the 2 GiB memory limit/);
    expect(weightsErrorOf(() => loadWeights(f).build({ hidden: 'relu', output: 'softmax' }, Float64Array)).message).toBe(`${f}: ${problem}`);
  });

  it('a 2.13 GB file is refused from its size, before it is read (sparse: nothing on disk)', () => {
    const f = fresh();
    writeFileSync(f, '');
    truncateSync(f, 2_130_000_000);
    expect(weightsErrorOf(() => loadWeights(f)).message).toBe(`${f}: 2130000000 bytes is more than the ${MAX_FILE_BYTES}-byte limit for a safetensors file`);
    expect(MAX_FILE_BYTES).toBe(2 ** 30);
  });
});
