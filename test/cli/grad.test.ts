import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { Mlp } from '../../src/model/mlp.js';
import { saveWeights } from '../../src/output/weights.js';
import { expectClose } from '../helpers/gradcheck.js';
import { cli, tempDir } from '../helpers/cli.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/seed_example_3_2_2.json', import.meta.url), 'utf8'));
const sf = ref.standard_form;
const NAMES = ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias'];

describe("mlp-grad executes seed 001's worked example", () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const weights = join(dir, 'seed.safetensors');
  const input = join(dir, 'input.json');
  const config = ConfigSchema.parse({ model: { layers: [3, 2, 2] } });
  const model = new Mlp(config.model);
  [model.W[0], model.b[0], model.W[1], model.b[1]].forEach((v, k) => v.set((sf.params[NAMES[k]] as number[][]).flat()));
  saveWeights(weights, model, config);
  writeFileSync(input, JSON.stringify(sf.mlp_grad_input));

  // The weights file stores float32: 0.1 becomes 0.100000001490116, a relative change
  // below 6e-8 that moves every z, a, delta and gradient by about as much. mlp-grad
  // then computes in float64, so 1e-6 relative (plus 1e-10 absolute) is ample and tight.
  const TOL = { atol: 1e-10, rtol: 1e-6 };

  it('--json gives every z, a, delta and gradient of the PyTorch float64 reference', () => {
    const r = cli('mlp-grad', ['--weights', weights, '--input', input, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.loss.data).toBeCloseTo(sf.loss.data, 6);
    expect(out.loss.total).toBeCloseTo(sf.loss.total, 6);
    expect(out.loss.discriminative).toBe(0);
    expect(out.loss.l2).toBe(0);
    sf.layers.forEach((layer: Record<string, number[][]>, l: number) => {
      for (const q of ['z', 'a', 'delta']) expectClose(out.layers[l][q].flat(), layer[q].flat(), TOL, `layer ${l} ${q}`);
    });
    for (const name of NAMES) expectClose([out.gradients[name]].flat(2), [sf.gradients[name]].flat(2), TOL, name);
    expect(out.gradients['layers.0.bias'][0] + out.gradients['layers.0.bias'][1]).toBeCloseTo(0.0023882, 7);
  });

  it('prints the same quantities as a readable table, on stdout (results), with --quiet too', () => {
    const r = cli('mlp-grad', ['--weights', weights, '--input', input, '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/loss +data 0\.593244\d+/);
    expect(r.stdout).toMatch(/layer 0: 3 -> 2, sigmoid/);
    expect(r.stdout).toMatch(/delta +\[0\.0019839\d+, 0\.00040428\d+\]/);
    expect(r.stdout).toMatch(/dE\/db +\[0\.077573\d+, 0\.11988\d+\]/);
  });

  it('the model is the weights\' own: --set model.hidden=relu is refused, naming the key', () => {
    const r = cli('mlp-grad', ['--weights', weights, '--input', input, '--set', 'model.hidden=relu']);
    expect(r.stderr).toBe(`error: --set: model.hidden: the weights file ${weights} was trained with sigmoid, not relu; saved weights keep their model (drop this override)\n`);
    expect(r.status).toBe(1);
  });

  it('--set switches the objective: the discriminative term needs labels, and then adds to the loss', () => {
    const two = join(dir, 'two.json');
    writeFileSync(two, JSON.stringify({ x: [[1, 4, 5], [2, 0, 1], [0, 1, 1]], labels: [0, 1, 1] }));
    const base = JSON.parse(cli('mlp-grad', ['--weights', weights, '--input', two, '--json']).stdout);
    const r = cli('mlp-grad', ['--weights', weights, '--input', two, '--json', '--set', 'regularization.discriminative=0.5']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.loss.data).toBeCloseTo(base.loss.data, 12);
    expect(out.loss.discriminative).not.toBe(0);
    expect(out.loss.total).toBeCloseTo(out.loss.data + out.loss.discriminative, 12);

    const noLabels = cli('mlp-grad', ['--weights', weights, '--input', input, '--set', 'regularization.discriminative=0.5']);
    expect(noLabels.status).toBe(1);
    expect(noLabels.stderr).toBe(`error: ${input}: the discriminative term (gamma 0.5) needs "labels"\n`);
  });
});

// A 3-2-2 net with maxout (k = 2) or softplus hidden units and sigmoid outputs, squared
// error, one sample: every printed quantity against a float64 computation written out
// here from the definitions (no code of src/ shared). The weights are multiples of 1/8,
// exact in float32, so the only difference is the order of float64 sums: 1e-12.
describe('mlp-grad on maxout and softplus hidden units', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const x = [1, 2, -1];
  const d = [1, 0];
  const input = join(dir, 'input.json');
  writeFileSync(input, JSON.stringify({ x: [x], targets: [d] }));
  // maxout: 2 units x 2 pieces, rows h*2 + j; unit 1's pieces are equal (a tie: piece 0 wins)
  const W0max = [[0.5, -0.25, 0.125], [0.25, 0.5, -0.5], [-0.375, 0.25, 0.75], [-0.375, 0.25, 0.75]];
  const b0max = [0.125, -0.25, 0.5, 0.5];
  const W0soft = [[0.5, -0.25, 0.125], [-0.375, 0.25, 0.75]];
  const b0soft = [0.125, 0.5];
  const W1 = [[0.75, -0.5], [-0.25, 0.625]];
  const b1 = [0.25, -0.125];
  const TOL = { atol: 1e-12, rtol: 1e-12 };

  function save(hidden: 'maxout' | 'softplus', W0: number[][], b0: number[]): string {
    const config = ConfigSchema.parse({ model: { layers: [3, 2, 2], hidden } });
    const model = new Mlp(config.model);
    [model.W[0], model.b[0], model.W[1], model.b[1]].forEach((v, k) => v.set([W0, b0, W1, b1][k].flat()));
    const file = join(dir, `${hidden}.safetensors`);
    saveWeights(file, model, config);
    return file;
  }

  /** The reference: z0, a0 = f(z0) and its Jacobian, then the sigmoid output layer and its mse backward. */
  function reference(W0: number[][], b0: number[], f: (z: number[]) => { a: number[]; da: (dA: number[]) => number[] }) {
    const z0 = W0.map((w, o) => w.reduce((s, wi, i) => s + wi * x[i], b0[o]));
    const { a: a0, da } = f(z0);
    const z1 = W1.map((w, o) => w.reduce((s, wi, i) => s + wi * a0[i], b1[o]));
    const y = z1.map((z) => 1 / (1 + Math.exp(-z)));
    const dY = y.map((v, j) => v - d[j]);
    const delta1 = dY.map((g, j) => g * y[j] * (1 - y[j]));
    const dA0 = a0.map((_, i) => delta1.reduce((s, g, o) => s + g * W1[o][i], 0));
    const delta0 = da(dA0);
    return {
      loss: 0.5 * dY.reduce((s, e) => s + e * e, 0),
      layers: [{ z: z0, a: a0, delta: delta0 }, { z: z1, a: y, delta: delta1 }],
      gradients: {
        'layers.0.weight': delta0.map((g) => x.map((xi) => g * xi)),
        'layers.0.bias': delta0,
        'layers.1.weight': delta1.map((g) => a0.map((ai) => g * ai)),
        'layers.1.bias': delta1,
      } as Record<string, number[] | number[][]>,
    };
  }

  const maxoutRef = (z: number[]) => {
    const win = [0, 1].map((h) => (z[2 * h + 1] > z[2 * h] ? 1 : 0)); // ties: the first piece
    return {
      a: win.map((j, h) => z[2 * h + j]),
      da: (dA: number[]) => z.map((_, p) => (win[Math.floor(p / 2)] === p % 2 ? dA[Math.floor(p / 2)] : 0)),
    };
  };
  const softplusRef = (z: number[]) => ({
    a: z.map((v) => Math.log(1 + Math.exp(v))),
    da: (dA: number[]) => dA.map((g, i) => g * (Math.exp(z[i]) / (1 + Math.exp(z[i])))),
  });

  it.each([
    ['maxout', W0max, b0max, maxoutRef],
    ['softplus', W0soft, b0soft, softplusRef],
  ] as const)('%s: --json gives every z, a, delta and gradient of the float64 reference', (hidden, W0, b0, f) => {
    const weights = save(hidden, W0.map((r) => [...r]), [...b0]);
    const r = cli('mlp-grad', ['--weights', weights, '--input', input, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const ref = reference(W0.map((row) => [...row]), [...b0], f);
    expect(out.loss.data).toBeCloseTo(ref.loss, 12);
    ref.layers.forEach((layer, l) => {
      for (const q of ['z', 'a', 'delta'] as const) {
        expect(out.layers[l][q].length, `layer ${l} ${q} rows`).toBe(1);
        expectClose(out.layers[l][q][0], layer[q], TOL, `layer ${l} ${q}`);
      }
    });
    for (const [name, g] of Object.entries(ref.gradients)) expectClose([out.gradients[name]].flat(2), [g].flat(2), TOL, name);
    if (hidden === 'maxout') {
      // z has a column per piece, a one per unit; the tied unit 1 passes its delta to piece 0 (row 2) only
      expect(out.layers[0].z[0]).toHaveLength(4);
      expect(out.layers[0].a[0]).toHaveLength(2);
      expect(out.layers[0].z[0][2]).toBe(out.layers[0].z[0][3]);
      expect(out.layers[0].delta[0][2]).not.toBe(0);
      expect(out.layers[0].delta[0][3]).toBe(0);
      expect(out.gradients['layers.0.weight'][3]).toEqual([0, 0, 0]);
    }
  });

  it('the listing names the pieces of a maxout layer', () => {
    const weights = save('maxout', W0max, b0max);
    const r = cli('mlp-grad', ['--weights', weights, '--input', input]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('layer 0: 3 -> 2, maxout of 2 pieces (z, delta: 4 columns; a[h] = max_j z[2h + j])');
    expect(r.stdout).toContain('layer 1: 2 -> 2, sigmoid');
    // z: four numbers (pieces), a: two (units)
    expect(r.stdout).toMatch(/\n {2}z +\[[^,\]]+(, [^,\]]+){3}\]\n {2}a +\[[^,\]]+, [^,\]]+\]\n/);
  });
});
