// The images mlp-predict classifies, as rows of the network's input in [0, 1]:
//   - a PNG of a handwritten character (mnist, kmnist, emnist-*): any size,
//     cropped, scaled and centred as MNIST was made (png-digit.ts);
//   - a PNG for fashion-mnist: used as it is, so it must have the network's
//     size (28x28); its background (the border's median) becomes 0;
//   - an IDX images file (u8 [n, rows, cols], plain or .gz, e.g. the
//     dataset's own t10k file): every image, transposed like the training
//     data when data.transpose is set; rows x cols must be the network's input.
// An image of another size is refused with one line naming the file.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { DataFileError } from '../errors.js';
import { readIdx } from './idx.js';
import { transposeImages } from './mnist.js';
import { readDigitPng, readPng, SIDE } from './png-digit.js';

export interface PredictImage {
  name: string; // the file, or file[i] for image i of an IDX file
  x: Float32Array; // [inputs] in [0, 1]
}

export interface PredictInputOptions {
  inputs: number; // the network's input width
  rescale: boolean; // PNGs are handwriting, made MNIST-like (else taken as they are)
  transpose: boolean; // data.transpose: IDX images are stored transposed
}

/**
 * An IDX images file by its name (-ubyte, .idx, either with .gz) or, for a
 * regular file, by its first bytes (IDX u8 magic 00 00 08 03, or gzip's 1f 8b);
 * anything else goes to the PNG reader, whose errors say what it is not. A
 * pipe or device is not sniffed: the bytes read would be lost to the reader.
 */
function isIdx(file: string): boolean {
  if (/(-ubyte|\.idx)(\.gz)?$/i.test(file)) return true;
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  const head = new Uint8Array(4);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return (head[0] === 0 && head[1] === 0 && head[2] === 0x08 && head[3] === 3) || (head[0] === 0x1f && head[1] === 0x8b);
}

export function readPredictImages(file: string, o: PredictInputOptions): PredictImage[] {
  if (isIdx(file)) return readIdxImages(file, o);
  if (o.rescale) {
    if (o.inputs !== SIDE * SIDE) {
      throw new DataFileError(file, `a PNG is made into a ${SIDE}x${SIDE} = ${SIDE * SIDE}-pixel image, but the network takes ${o.inputs} inputs`);
    }
    return [{ name: file, x: readDigitPng(file) }];
  }
  return [{ name: file, x: rawPng(file, o.inputs) }];
}

function readIdxImages(file: string, o: PredictInputOptions): PredictImage[] {
  const { dims, data } = readIdx(file);
  if (dims.length !== 3) throw new DataFileError(file, `expected an IDX images file [n, rows, cols], found ${dims.length} dimensions [${dims.join(', ')}]`);
  const [n, rows, cols] = dims;
  if (rows * cols !== o.inputs) {
    throw new DataFileError(file, `images of ${rows}x${cols} = ${rows * cols} pixels, but the network takes ${o.inputs} inputs`);
  }
  const images = o.transpose ? transposeImages(data, n, rows, cols) : data;
  const F = rows * cols;
  return Array.from({ length: n }, (_, i) => {
    const x = new Float32Array(F);
    for (let k = 0; k < F; k++) x[k] = images[i * F + k] / 255;
    return { name: `${file}[${i}]`, x };
  });
}

/** A PNG of exactly the network's size, luminance in [0, 1], inverted when its border (the background) is light. */
function rawPng(file: string, inputs: number): Float32Array {
  const png = readPng(file);
  const side = Math.round(Math.sqrt(inputs));
  if (png.width * png.height !== inputs || png.width !== side) {
    throw new DataFileError(file, `${png.width}x${png.height} image, but the network takes ${side}x${side} = ${inputs}-pixel images (this dataset's images are not rescaled)`);
  }
  const x = new Float32Array(inputs);
  const { data, width, height } = png;
  for (let k = 0; k < inputs; k++) x[k] = ((0.299 * data[4 * k] + 0.587 * data[4 * k + 1] + 0.114 * data[4 * k + 2]) / 255) * (data[4 * k + 3] / 255);
  const border: number[] = [];
  for (let c = 0; c < width; c++) border.push(x[c], x[(height - 1) * width + c]);
  border.sort((a, b) => a - b);
  if (border[Math.floor(border.length / 2)] >= 0.5) for (let k = 0; k < inputs; k++) x[k] = 1 - x[k];
  return x;
}
