// The training data's fingerprint: the same bytes give the same one; a changed
// pixel, label, sample count or validation split gives another.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/mnist.js';
import { dataFingerprint, describeData, sameData } from '../../src/train/fingerprint.js';

function dataset(n: number, seed: number): Dataset {
  const images = new Uint8Array(n * 4);
  const labels = new Uint8Array(n);
  for (let i = 0; i < images.length; i++) images[i] = (i * 31 + seed) & 0xff;
  for (let i = 0; i < n; i++) labels[i] = (i + seed) % 10;
  return { name: 'train', n, features: 4, images, labels };
}

describe('dataFingerprint', () => {
  it('samples, bytes and the sha256 of images then labels (train, then validation)', () => {
    const train = dataset(5, 1);
    const val = dataset(2, 2);
    const hash = createHash('sha256').update(train.images).update(train.labels).update(val.images).update(val.labels).digest('hex');
    expect(dataFingerprint(train, val)).toEqual({ samples: 7, bytes: 5 * 5 + 2 * 5, sha256: hash });
    expect(describeData(dataFingerprint(train, val))).toBe(`7 samples, 35 bytes, sha256 ${hash.slice(0, 12)}`);
  });

  it.each([
    ['one pixel', (d: Dataset) => (d.images[3] ^= 1)],
    ['one label', (d: Dataset) => (d.labels[0] = 9 - d.labels[0])],
  ])('a changed %s changes it', (_what, change) => {
    const a = dataset(5, 1);
    const b = dataset(5, 1);
    expect(sameData(dataFingerprint(a, null), dataFingerprint(b, null))).toBe(true);
    change(b);
    expect(sameData(dataFingerprint(a, null), dataFingerprint(b, null))).toBe(false);
  });

  it('the same samples split another way between train and validation give another', () => {
    const all = dataset(6, 1);
    const first = { ...all, n: 4, images: all.images.subarray(0, 16), labels: all.labels.subarray(0, 4) };
    const rest = { ...all, n: 2, images: all.images.subarray(16), labels: all.labels.subarray(4) };
    expect(sameData(dataFingerprint(first, rest), dataFingerprint(all, null))).toBe(false);
  });
});
