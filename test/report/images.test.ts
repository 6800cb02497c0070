// The misclassified-digits grid captions any class index (issue 17 D: class
// 271 of a 300-output model was captioned "15" when predictions were bytes).
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/mnist.js';
import type { Evaluation } from '../../src/eval/evaluate.js';
import { misclassifiedGrid } from '../../src/report/images.js';

const ds: Dataset = { name: 'test', n: 3, features: 784, images: new Uint8Array(3 * 784), labels: Uint8Array.of(3, 15, 9) };
const evaluation = { n: 3, accuracy: 1 / 3 } as Evaluation; // the grid reads only n and accuracy

describe('misclassifiedGrid', () => {
  it('captions a 300-output model\'s prediction 271 as "271", and names the weights in its title', () => {
    const svg = misclassifiedGrid(ds, Int32Array.of(271, 271, 9), evaluation, 96, 'model.safetensors (epoch 3, the last epoch)')!;
    expect([...svg.matchAll(/text-anchor="middle">([^<]*)<\/text>/g)].map((m) => m[1])).toEqual(['3 → 271', '15 → 271']);
    expect([...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1])).toEqual([
      'test sample 0: true 3, predicted 271',
      'test sample 1: true 15, predicted 271',
    ]);
    expect(svg).toContain('>Misclassified digits: model.safetensors (epoch 3, the last epoch)</text>');
    expect(svg).toContain('2 of 3 test digits misclassified; the first 2 in test-set order');
  });

  it('is wide enough for its title when there are few tiles', () => {
    const label = 'best.safetensors (epoch 12, best validation accuracy)';
    const svg = misclassifiedGrid(ds, Int32Array.of(3, 15, 0), { n: 3, accuracy: 2 / 3 } as Evaluation, 96, label)!;
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThanOrEqual(Math.ceil(0.6 * 14 * `Misclassified digits: ${label}`.length));
  });
});
