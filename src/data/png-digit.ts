// A PNG of a handwritten digit (a drawing, a scan, a photo; any size; dark
// ink on light paper or light on dark) -> a 28x28 MNIST-style sample, the way
// MNIST itself was made (LeCun et al.): the digit's bounding box scaled to fit
// 20x20 keeping its aspect ratio (anti-aliased: each output pixel is the mean
// of the input area it covers), then placed in a 28x28 field so that its
// centre of mass is at the centre. Ink is 1, background 0, as in MNIST.
import { PNG } from 'pngjs';
import { DataFileError } from '../errors.js';
import { readInputFile } from '../read-file.js';

export const SIDE = 28; // MNIST field
const BOX = 20; // the digit's bounding box is scaled to fit BOX x BOX
const MAX_PNG_BYTES = 64 * 1024 * 1024;
// Both checked from the header before decoding: a tiny file can claim a huge
// image. The side bound matters on its own: a 50,000,000 x 1 image is within
// the pixel bound but its border alone is 100 million pixels (inkOf). 16384
// is above every camera's side (a 50-megapixel sensor is 8160 x 6120).
const MAX_PIXELS = 50_000_000;
export const MAX_SIDE = 16384;
const NOISE = 0.15; // ink below this fraction of the darkest stroke is paper texture, not digit
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface Gray {
  width: number;
  height: number;
  ink: Float32Array; // [height, width], 0 = background, 1 = the strongest stroke
}

/** Decode a PNG file to RGBA (pngjs: every colour type and bit depth, interlaced or not). */
export function readPng(file: string): PNG {
  // From a pipe or device the header is checked on the first bytes, before the rest is read.
  const bytes = readInputFile(file, 'a PNG image', MAX_PNG_BYTES, (f, p) => new DataFileError(f, p), (head) => {
    if (head.length >= 33) checkHeader(file, head);
  });
  checkHeader(file, bytes);
  checkChunks(file, bytes);
  try {
    return PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new DataFileError(file, `damaged PNG image: ${(err as Error).message}`);
  }
}

const chunkType = (bytes: Uint8Array, at: number): string => String.fromCharCode(...bytes.subarray(at + 4, at + 8));

/** The signature, and the image size from IHDR (the first chunk: width and height at bytes 16 and 20), each side and the product bounded. */
function checkHeader(file: string, bytes: Uint8Array): void {
  if (bytes.length < 8 || SIGNATURE.some((b, k) => bytes[k] !== b)) {
    throw new DataFileError(file, 'not a PNG image (the file does not start with the PNG signature)');
  }
  if (bytes.length < 33 || chunkType(bytes, 8) !== 'IHDR') throw new DataFileError(file, 'damaged PNG image: no IHDR chunk after the signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = view.getUint32(16);
  const h = view.getUint32(20);
  if (w === 0 || h === 0) throw new DataFileError(file, `damaged PNG image: the header says ${w}x${h} pixels`);
  if (w * h > MAX_PIXELS) throw new DataFileError(file, `${w}x${h} pixels is more than the ${MAX_PIXELS}-pixel limit`);
  if (w > MAX_SIDE || h > MAX_SIDE) {
    throw new DataFileError(file, `${w}x${h} pixels: a side of ${Math.max(w, h)} is more than the ${MAX_SIDE}-pixel limit per side`);
  }
}

/**
 * The chunk layout, before pngjs sees the file (its messages for a cut file
 * are about streams): chunks of [length u32 BE][type][data][crc] from byte 8,
 * IHDR first, IEND last.
 */
function checkChunks(file: string, bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number): string => chunkType(bytes, at);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const end = at + 12 + view.getUint32(at);
    if (end > bytes.length) {
      throw new DataFileError(file, `truncated: chunk ${type(at)} at byte ${at} needs ${end} bytes, the file has ${bytes.length}`);
    }
    if (type(at) === 'IEND') return;
    at = end;
  }
  throw new DataFileError(file, `truncated: no IEND chunk (the file ends after ${bytes.length} bytes)`);
}

/**
 * Ink per pixel, whatever the polarity. A drawing on a transparent canvas
 * (most of the border transparent) has its ink in the alpha channel.
 * Otherwise the luminance (composited over white) is compared with the
 * border's median, which is the paper: a light border means dark ink. The
 * paper level maps to 0, the strongest stroke to 1.
 */
export function inkOf(png: PNG): Gray {
  const { width, height, data } = png;
  const n = width * height;
  const gray = new Float32Array(n);
  const alpha = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const a = data[4 * k + 3] / 255;
    const lum = (0.299 * data[4 * k] + 0.587 * data[4 * k + 1] + 0.114 * data[4 * k + 2]) / 255;
    alpha[k] = a;
    gray[k] = lum * a + (1 - a);
  }
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) border.push(y * width, y * width + width - 1);
  const transparent = border.filter((k) => alpha[k] < 0.5).length;

  const ink = new Float32Array(n);
  if (transparent > border.length / 2) {
    ink.set(alpha);
  } else {
    const paper = median(border.map((k) => gray[k]));
    const dark = paper >= 0.5; // light paper: dark ink
    const span = dark ? paper : 1 - paper;
    for (let k = 0; k < n; k++) {
      const v = dark ? paper - gray[k] : gray[k] - paper;
      ink[k] = span > 0 ? Math.max(0, v / span) : 0;
    }
  }
  let max = 0;
  for (let k = 0; k < n; k++) max = Math.max(max, ink[k]);
  if (max > 0) for (let k = 0; k < n; k++) ink[k] = ink[k] / max >= NOISE ? ink[k] / max : 0;
  return { width, height, ink };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Mean of src over the rectangle [x0, x1) x [y0, y1) (in source pixels,
 * fractional edges weighted by the covered fraction).
 */
function areaMean(src: Gray, x0: number, x1: number, y0: number, y1: number): number {
  let sum = 0;
  for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
    const wy = Math.min(y + 1, y1) - Math.max(y, y0);
    for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
      const wx = Math.min(x + 1, x1) - Math.max(x, x0);
      sum += wx * wy * src.ink[y * src.width + x];
    }
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

/** The MNIST form of an ink image: [28*28] in [0, 1]; null when there is no ink at all. */
export function toMnist(src: Gray): Float32Array | null {
  // Bounding box of the ink.
  let left = src.width;
  let right = -1;
  let top = src.height;
  let bottom = -1;
  for (let y = 0; y < src.height; y++) {
    for (let x = 0; x < src.width; x++) {
      if (src.ink[y * src.width + x] > 0) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  const w = right - left + 1;
  const h = bottom - top + 1;

  // Scale the box to fit BOX x BOX, keeping the aspect ratio.
  const scale = BOX / Math.max(w, h);
  const bw = Math.max(1, Math.round(w * scale));
  const bh = Math.max(1, Math.round(h * scale));
  const box = new Float32Array(bw * bh);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      box[y * bw + x] = areaMean(src, left + (x * w) / bw, left + ((x + 1) * w) / bw, top + (y * h) / bh, top + ((y + 1) * h) / bh);
    }
  }

  // Centre of mass to the centre of the 28x28 field, by a whole-pixel shift. In
  // pixel-centre coordinates (x + 0.5) MNIST puts it at 14.5, i.e. on pixel
  // index 14: aimed there, this code turns the first 200 MNIST test digits
  // back into themselves up to a sum of |differences| of 2.8 per image (pixels
  // in [0, 1]; 46 when aiming at 14.0, mostly one-pixel shifts).
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const v = box[y * bw + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const ox = Math.round(SIDE / 2 + 0.5 - mx / mass);
  const oy = Math.round(SIDE / 2 + 0.5 - my / mass);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const X = x + ox;
      const Y = y + oy;
      if (X >= 0 && X < SIDE && Y >= 0 && Y < SIDE) out[Y * SIDE + X] = Math.min(1, box[y * bw + x]);
    }
  }
  return out;
}

/** A PNG file -> the MNIST form of the digit it shows. */
export function readDigitPng(file: string): Float32Array {
  const digit = toMnist(inkOf(readPng(file)));
  if (digit === null) throw new DataFileError(file, 'no digit found: the image is one flat colour');
  return digit;
}
