// Pictures made of pixels: the misclassified test digits and the first layer's
// weights, each a small PNG (pngjs) embedded as a data: URI in an SVG grid of
// tiles with captions. There are no axes to draw, so no charting library:
// an SVG <image> per tile, scaled up with pixelated rendering.
import { PNG } from 'pngjs';
import type { Evaluation } from '../eval/evaluate.js';
import type { Dataset } from '../data/mnist.js';
import type { Mlp } from '../model/mlp.js';
import { escapeXml } from './xml.js';

export interface Tile {
  png: Buffer;
  caption: string;
  /** Tooltip text (an SVG <title>). */
  title: string;
}

/** An RGBA PNG of width x height from a colour per pixel (row-major). */
export function encodePng(width: number, height: number, rgbOf: (k: number) => [number, number, number]): Buffer {
  const png = new PNG({ width, height });
  for (let k = 0; k < width * height; k++) {
    const [r, g, b] = rgbOf(k);
    png.data[4 * k] = r;
    png.data[4 * k + 1] = g;
    png.data[4 * k + 2] = b;
    png.data[4 * k + 3] = 255;
  }
  return PNG.sync.write(png);
}

/**
 * Tiles in rows of `columns`, each image `size` px square, caption below.
 * `note` is a line of text above the grid.
 */
export function tileGridSvg(title: string, note: string, tiles: readonly Tile[], size: number, columns: number): string {
  const pad = 8;
  const captionH = 16;
  const head = 44;
  const cols = Math.max(1, Math.min(columns, tiles.length));
  const rows = Math.ceil(tiles.length / cols);
  const cellW = size + pad;
  const cellH = size + captionH + pad;
  // Wide enough for the tiles and for the two lines of text (estimated: no font metrics here).
  const width = Math.max(360, pad + cols * cellW, 2 * pad + Math.ceil(Math.max(0.6 * 14 * title.length, 0.55 * 11 * note.length)));
  const height = head + rows * cellH + pad;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${pad}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${pad}" y="37" font-size="11" fill="#555">${escapeXml(note)}</text>`,
  ];
  tiles.forEach((t, k) => {
    const x = pad + (k % cols) * cellW;
    const y = head + Math.floor(k / cols) * cellH;
    parts.push(
      `<g class="tile"><title>${escapeXml(t.title)}</title>` +
        `<image x="${x}" y="${y}" width="${size}" height="${size}" style="image-rendering:pixelated" preserveAspectRatio="none" ` +
        `href="data:image/png;base64,${t.png.toString('base64')}"/>` +
        `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="none" stroke="#ccc"/>` +
        `<text x="${x + size / 2}" y="${y + size + 12}" font-size="11" text-anchor="middle">${escapeXml(t.caption)}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Side of a square image with `features` pixels, or null (then there are no pictures to draw). */
export function imageSide(features: number): number | null {
  const side = Math.round(Math.sqrt(features));
  return side * side === features ? side : null;
}

/** A digit as MNIST shows it to people: dark ink on white (the files store ink as 255). */
function digitPng(images: Uint8Array, index: number, side: number): Buffer {
  const off = index * side * side;
  return encodePng(side, side, (k) => {
    const v = 255 - images[off + k];
    return [v, v, v];
  });
}

/**
 * The first `max` misclassified samples, in dataset order, from the per-sample
 * predictions (class indices of any size: a model may have 300 outputs);
 * `weights` names the weights that made them.
 */
export function misclassifiedGrid(ds: Dataset, predicted: Int32Array, evaluation: Evaluation, max: number, weights: string): string | null {
  const side = imageSide(ds.features);
  if (side === null) return null;
  const tiles: Tile[] = [];
  const name = (k: number): string => ds.classes?.[k] ?? String(k);
  for (let i = 0; i < ds.n && tiles.length < max; i++) {
    if (predicted[i] === ds.labels[i]) continue;
    tiles.push({
      png: digitPng(ds.images, i, side),
      caption: `${name(ds.labels[i])} → ${name(predicted[i])}`,
      title: `${ds.name} sample ${i}: true ${name(ds.labels[i])}, predicted ${name(predicted[i])}`,
    });
  }
  const wrong = evaluation.n - Math.round(evaluation.accuracy * evaluation.n);
  const note = `${wrong} of ${evaluation.n} ${ds.name} digits misclassified; the first ${tiles.length} in ${ds.name}-set order, captioned true → predicted`;
  return tileGridSvg(`Misclassified digits: ${weights}`, note, tiles, 2 * side, 12);
}

/**
 * Diverging colours for a weight w in [-1, 1] (already divided by the unit's
 * largest |w|): blue for negative, white for 0, red for positive.
 */
function diverging(w: number): [number, number, number] {
  const t = Math.min(1, Math.abs(w));
  const fade = (c: number): number => Math.round(255 + (c - 255) * t);
  return w < 0 ? [fade(33), fade(102), fade(172)] : [fade(178), fade(24), fade(43)];
}

/**
 * The first layer's weight rows W_0[j, :] drawn as images: what hidden unit j
 * responds to (red pixels raise its input, blue lower it), each scaled to its
 * own largest |w|.
 */
export function weightsGrid(model: Mlp, max: number): string | null {
  const { I, O } = model.slots[0];
  const side = imageSide(I);
  if (side === null) return null;
  const W = model.W[0];
  const units = Math.min(O, max);
  const pieces = model.L > 1 ? model.pieces : 1; // a maxout layer's rows are its units' pieces: row h k + p
  const name = (j: number): string => (pieces > 1 ? `unit ${Math.floor(j / pieces)} piece ${j % pieces}` : `unit ${j}`);
  const tiles: Tile[] = [];
  for (let j = 0; j < units; j++) {
    const row = W.subarray(j * I, (j + 1) * I);
    let scale = 0;
    for (let k = 0; k < I; k++) scale = Math.max(scale, Math.abs(row[k]));
    const inv = scale > 0 ? 1 / scale : 0;
    tiles.push({
      png: encodePng(side, side, (k) => diverging(row[k] * inv)),
      caption: pieces > 1 ? `${Math.floor(j / pieces)}.${j % pieces}` : `unit ${j}`,
      title: `hidden ${name(j)}: largest |w| = ${scale.toPrecision(3)}`,
    });
  }
  const rows = pieces > 1 ? `rows (maxout: unit h, piece p = row ${pieces}h + p)` : 'hidden units';
  const note = `${units} of ${O} ${rows}; red = positive weight, blue = negative, each unit scaled to its largest |w|`;
  return tileGridSvg('First-layer weights (what the hidden units look for)', note, tiles, 2 * side, 14);
}
