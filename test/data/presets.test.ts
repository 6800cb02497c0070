// data.dir, data.preset (with the search root injected: no Debian package
// needed), data.transpose and data.label_offset, on tiny IDX files written here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { loadRunData } from '../../src/data/load.js';
import { transposeImages } from '../../src/data/mnist.js';
import { classNames, IDX_NAMES, splitFiles } from '../../src/data/presets.js';
import { ConfigError, DataFileError } from '../../src/errors.js';
import { errorOf } from '../helpers/errors.js';
import { useTempFiles } from '../helpers/files.js';
import { idx } from '../helpers/idx.js';

const ROWS = 2, COLS = 3; // non-square, so a transpose cannot pass for the identity
/** Image i: pixel (r, c) = 10 i + 3 r + c + 1. */
const images = (n: number): number[] => Array.from({ length: n * ROWS * COLS }, (_, k) => 10 * Math.floor(k / 6) + (k % 6) + 1);

/** The four standard files in `dir` (gzipped or not), n images each, with `labels`. */
function writeSet(dir: string, labels: number[], gz: boolean): void {
  mkdirSync(dir, { recursive: true });
  const n = labels.length;
  const put = (name: string, bytes: Uint8Array): void => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  for (const split of Object.values(IDX_NAMES)) {
    put(split.images, idx([n, ROWS, COLS], images(n)));
    put(split.labels, idx([n], labels));
  }
}

function config(data: Partial<Config['data']>, classes = 10): Config {
  const cfg = defaultConfig();
  cfg.data = { ...cfg.data, ...data };
  cfg.model.layers = [ROWS * COLS, 4, classes];
  return cfg;
}

const oneLine = (e: Error): string => {
  expect(e.message).not.toContain('\n');
  return e.message;
};

describe('data.dir', () => {
  const files = useTempFiles('mlp-dir-');
  writeSet(join(files.dir, 'plain'), [0, 1, 2], false);
  writeSet(join(files.dir, 'zipped'), [3, 4, 5], true);

  it.each([['plain', [0, 1, 2]], ['zipped', [3, 4, 5]]])('reads the four names from %s files', (sub, labels) => {
    const data = loadRunData(config({ dir: join(files.dir, sub) }), 'c.yaml', { train: true, test: true });
    expect([...data.train!.labels]).toEqual(labels);
    expect([...data.test!.images]).toEqual(images(3));
  });

  it('is resolved against the config file\'s folder, not the working directory', () => {
    const file = files.write('c.yaml', 'data:\n  dir: zipped\nmodel:\n  layers: [6, 4, 10]\n');
    const cfg = loadConfig(file);
    expect(cfg.data.dir).toBe(join(files.dir, 'zipped'));
    expect([...loadRunData(cfg, file, { train: true, test: false }).train!.labels]).toEqual([3, 4, 5]);
  });

  it('names the missing file and says how a relative folder is resolved', () => {
    const empty = join(files.dir, 'empty');
    mkdirSync(empty);
    const e = errorOf(ConfigError, () => loadRunData(config({ dir: empty }), 'c.yaml', { train: true, test: false }));
    expect(oneLine(e)).toBe(
      `c.yaml: data.dir: ${empty} holds no train-images-idx3-ubyte (nor train-images-idx3-ubyte.gz); a relative data.dir is resolved against the config file's folder`,
    );
  });

  it('refuses data.dir together with data.train/data.test paths', () => {
    const file = files.write('both.yaml', 'data:\n  dir: plain\n  test:\n    images: x-images\n');
    const e = errorOf(ConfigError, () => loadConfig(file));
    expect(oneLine(e)).toContain('data.dir');
    expect(e.message).toContain('not both');
  });
});

describe('data.preset, with the search root injected', () => {
  const root = useTempFiles('mlp-root-').dir;
  writeSet(join(root, 'fashion-mnist'), [9, 0, 7], true);

  it('finds fashion-mnist in <root>/fashion-mnist (.gz) and names its classes', () => {
    const data = loadRunData(config({ preset: 'fashion-mnist' }), 'c.yaml', { train: true, test: true }, root);
    expect([...data.test!.labels]).toEqual([9, 0, 7]);
    expect(data.test!.classes![9]).toBe('Ankle boot');
    expect(splitFiles(config({ preset: 'fashion-mnist' }).data, 'test', 'c.yaml', root).images).toBe(join(root, 'fashion-mnist', 't10k-images-idx3-ubyte.gz'));
  });

  it.each([
    ['fashion-mnist', 'an empty root', (r: string) => `c.yaml: data.preset: fashion-mnist is not installed (no train-images-idx3-ubyte[.gz] in ${r}/fashion-mnist): install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or set data.dir`],
    ['kmnist', 'no Debian package', (r: string) => `c.yaml: data.preset: kmnist is not installed (no train-images-idx3-ubyte[.gz] in ${r}/kmnist; no Debian package provides it): put train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each plain or .gz) in ${r}/kmnist, or set data.dir to the folder that holds them`],
  ] as const)('a missing %s (%s) is one line naming the package or the files to put where', (preset, _why, line) => {
    const empty = useTempFilesDir();
    const e = errorOf(ConfigError, () => loadRunData(config({ preset }), 'c.yaml', { train: true, test: false }, empty));
    expect(oneLine(e)).toBe(line(empty));
  });

  it('mnist is the bundled copy whatever the root', () => {
    expect(splitFiles(defaultConfig().data, 'train', 'c.yaml', '/nonexistent')).toEqual({ images: null, labels: null });
  });

  it.each([
    ['fashion-mnist', 10, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']],
    ['kmnist', 10, ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo']],
    ['emnist-letters', 26, 'abcdefghijklmnopqrstuvwxyz'.split('')],
    ['mnist', 10, '0123456789'.split('')],
  ] as const)('%s names its %i classes', (preset, n, names) => {
    expect(classNames(config({ preset }).data, n)).toEqual(names);
  });

  it('emnist-balanced has 47 distinct class names; a model of another width gets the indices', () => {
    const names = classNames(config({ preset: 'emnist-balanced' }).data, 47);
    expect(new Set(names).size).toBe(47);
    expect(names.slice(36)).toEqual(['a', 'b', 'd', 'e', 'f', 'g', 'h', 'n', 'q', 'r', 't']);
    expect(classNames(config({ preset: 'fashion-mnist' }).data, 3)).toEqual(['0', '1', '2']);
  });
});

let tempCount = 0;
const tempRoot = useTempFiles('mlp-empty-');
function useTempFilesDir(): string {
  const dir = join(tempRoot.dir, `r${tempCount++}`);
  mkdirSync(dir);
  return dir;
}

describe('data.transpose and data.label_offset', () => {
  const files = useTempFiles('mlp-store-');
  writeSet(join(files.dir, 'letters'), [1, 26, 5], false);
  writeSet(join(files.dir, 'zero'), [0, 3, 1], false);

  it('transposeImages swaps rows and columns of every image', () => {
    // image 0 [[1 2 3] [4 5 6]] -> [[1 4] [2 5] [3 6]]
    expect([...transposeImages(Uint8Array.from(images(2)), 2, ROWS, COLS)]).toEqual([1, 4, 2, 5, 3, 6, 11, 14, 12, 15, 13, 16]);
  });

  it('transposes at load time when asked (the emnist presets by default), before the validation split', () => {
    const dir = join(files.dir, 'zero');
    const plain = loadRunData(config({ dir }), 'c.yaml', { train: true, test: false }).train!;
    const t = loadRunData(config({ dir, transpose: true }), 'c.yaml', { train: true, test: false }).train!;
    expect([...t.images]).toEqual([...transposeImages(plain.images, 3, ROWS, COLS)]);
    const byPreset = loadRunData(config({ dir, preset: 'emnist-digits' }), 'c.yaml', { train: true, test: false }).train!;
    expect([...byPreset.images]).toEqual([...t.images]);
    const split = loadRunData(config({ dir, transpose: true, validation: 1 }), 'c.yaml', { train: true, test: false });
    const rows = [...split.train!.images, ...split.validation!.images];
    for (let i = 0; i < 3; i++) expect(rows.join(',')).toContain([...t.images.subarray(6 * i, 6 * i + 6)].join(','));
  });

  it('emnist-letters subtracts 1 from its labels 1..26', () => {
    const data = loadRunData(config({ dir: join(files.dir, 'letters'), preset: 'emnist-letters' }, 26), 'c.yaml', { train: true, test: false });
    expect([...data.train!.labels]).toEqual([0, 25, 4]);
    expect(data.train!.classes![25]).toBe('z');
  });

  it('a label past the last layer names the file and the keys', () => {
    const dir = join(files.dir, 'letters');
    const e = errorOf(DataFileError, () => loadRunData(config({ dir }, 26), 'c.yaml', { train: true, test: false }));
    expect(oneLine(e)).toBe(
      `${join(dir, 'train-labels-idx1-ubyte')}: label 26 at index 1 is out of range for the 26 output classes of model.layers: make the last layer wider, or set data.label_offset`,
    );
    const shifted = errorOf(DataFileError, () => loadRunData(config({ dir, label_offset: 1 }, 10), 'c.yaml', { train: true, test: false }));
    expect(oneLine(shifted)).toContain('label 25 (1 subtracted by data.label_offset) at index 1 is out of range for the 10 output classes');
  });

  it('a label_offset that makes a label negative names the file and the key', () => {
    const dir = join(files.dir, 'zero');
    const e = errorOf(DataFileError, () => loadRunData(config({ dir, label_offset: 1 }), 'c.yaml', { train: true, test: false }));
    expect(oneLine(e)).toBe(`${join(dir, 'train-labels-idx1-ubyte')}: label 0 at index 0 is below data.label_offset 1: lower data.label_offset`);
  });
});
