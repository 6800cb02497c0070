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
