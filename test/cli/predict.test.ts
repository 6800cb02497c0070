// mlp-predict on MNIST test digits drawn into PNG files the way a user's images
// come: larger, shifted, either polarity, grayscale or RGBA or on a transparent
// canvas. Each must get the class mlp-eval gives the original 28x28 digit.
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadSplit } from '../../src/data/mnist.js';
import { FAINT_LIMIT, INKED_LIMIT, MNIST_TRAIN_MAX, typicality } from '../../src/eval/predict.js';
import { cli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { idx } from '../helpers/idx.js';

const DIGITS = 30; // the first 30 test images
const S = 28;

interface Variant {
  name: string;
  scale: number; // nearest-neighbour upscaling of the 28x28 digit
  canvas: [number, number]; // width, height
  at: [number, number]; // where the scaled digit's top-left corner goes
  pixel: (ink: number) => [number, number, number, number]; // RGBA of a pixel with MNIST value `ink` (0..255)
  colorType: 0 | 2 | 6; // PNG colour type written: gray, RGB, RGBA
}

const VARIANTS: Variant[] = [
  // MNIST's own polarity (light ink on black), 3x, in the top-left part of a wide canvas
  { name: 'light-on-dark', scale: 3, canvas: [160, 100], at: [5, 9], pixel: (v) => [v, v, v, 255], colorType: 0 },
  // dark ink on white paper, 5x, shifted to the lower right of a tall canvas
  { name: 'dark-on-light', scale: 5, canvas: [180, 230], at: [37, 81], pixel: (v) => [255 - v, 255 - v, 255 - v, 255], colorType: 2 },
  // blue ink on cream paper, 2x, off-centre
  { name: 'blue-on-cream', scale: 2, canvas: [90, 70], at: [30, 4], pixel: (v) => mix([250, 240, 215], [20, 40, 160], v / 255), colorType: 2 },
  // a drawing on a transparent canvas: the ink is in the alpha channel, 4x
  { name: 'transparent', scale: 4, canvas: [140, 140], at: [20, 2], pixel: (v) => [0, 0, 0, v], colorType: 6 },
];

function mix(paper: number[], ink: number[], t: number): [number, number, number, number] {
  const c = paper.map((p, k) => Math.round(p + (ink[k] - p) * t));
  return [c[0], c[1], c[2], 255];
}

function renderPng(digit: Uint8Array, v: Variant): Buffer {
  const [W, H] = v.canvas;
  const png = new PNG({ width: W, height: H });
  const background = v.pixel(0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = Math.floor((x - v.at[0]) / v.scale);
      const dy = Math.floor((y - v.at[1]) / v.scale);
      const inside = x >= v.at[0] && y >= v.at[1] && dx < S && dy < S;
      const rgba = inside ? v.pixel(digit[dy * S + dx]) : background;
      png.data.set(rgba, 4 * (y * W + x));
    }
  }
  return PNG.sync.write(png, { colorType: v.colorType });
}

describe('mlp-predict', () => {
  const files = useTempFiles('mlp-mnist-predict-');
  const run = join(files.dir, 'run');
  const cfg = files.write('small.yaml', 'data: {limit: 3000}\nmodel: {layers: [784, 64, 10]}\ntraining: {epochs: 2, batch_size: 10, lr: 0.5}\n');
  const train = cli('mlp-train', ['--config', cfg, '--out', run, '--quiet']);
  const weights = join(run, 'model.safetensors');
  const test = loadSplit({ images: null, labels: null }, 'test', 10);
  const digit = (i: number): Uint8Array => test.images.subarray(i * S * S, (i + 1) * S * S);

  it('gives every rendered digit, in every variant, the class mlp-eval gives the original', () => {
    expect(train.status).toBe(0);
    const pngs: string[] = [];
    const originals: number[] = [];
    for (const v of VARIANTS) {
      for (let i = 0; i < DIGITS; i++) {
        pngs.push(files.write(`${v.name}-${i}.png`, renderPng(digit(i), v)));
        originals.push(i);
      }
    }
    const r = cli('mlp-predict', ['--weights', weights, '--json', ...pngs]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { images: Array<{ image: string; predicted: number; probabilities: number[] }> };
    expect(out.images.map((x) => x.image)).toEqual(pngs);
    for (const x of out.images) {
      expect(x.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 6);
      expect(Math.max(...x.probabilities)).toBe(x.probabilities[x.predicted]);
    }

    // mlp-eval on the original digits, labelled with mlp-predict's classes: accuracy 1 means every class agrees.
    const images = new Uint8Array(originals.length * S * S);
    originals.forEach((i, k) => images.set(digit(i), k * S * S));
    const labels = Uint8Array.from(out.images.map((x) => x.predicted));
    const imagesFile = files.write('originals-images.idx', idx([originals.length, S, S], images));
    const labelsFile = files.write('predicted-labels.idx', idx([originals.length], labels));
    const e = cli('mlp-eval', ['--weights', weights, '--json', '--set', `data.test.images=${imagesFile}`, '--set', `data.test.labels=${labelsFile}`]);
    expect(e.status).toBe(0);
    const evaluation = JSON.parse(e.stdout);
    const disagree = evaluation.confusion.flatMap((row: number[], t: number) => row.map((c, p) => (p !== t && c > 0 ? `${c}x mlp-predict ${t} vs mlp-eval ${p}` : '')).filter(Boolean));
    expect(disagree).toEqual([]);
    expect(evaluation.accuracy).toBe(1);
    expect(evaluation.n).toBe(VARIANTS.length * DIGITS);
  });

  it('prints the top classes with probabilities, one line per image', () => {
    const file = files.write('seven.png', renderPng(digit(0), VARIANTS[1])); // test image 0 is a 7
    const r = cli('mlp-predict', ['--weights', weights, '--top', '2', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${file}  7 +\\d+\\.\\d% +\\d +\\d+\\.\\d%\\n$`));
  });

  const notPng = files.write('notes.png', 'hello, this is text');
  const good = renderPng(digit(0), VARIANTS[0]);
  const truncated = files.write('truncated.png', good.subarray(0, good.length - 40)); // cuts into the last IDAT chunk
  const idatAt = good.lastIndexOf('IDAT') - 4;
  const idatEnd = idatAt + 12 + good.readUInt32BE(idatAt);
  const damaged = Buffer.from(good);
  damaged[60] ^= 0xff; // inside the compressed image data: the CRC check fails
  const damagedFile = files.write('damaged.png', damaged);
  const blank = new PNG({ width: 30, height: 20 });
  blank.data.fill(255);
  const blankFile = files.write('blank.png', PNG.sync.write(blank));
  const huge = Buffer.from(good);
  huge.writeUInt32BE(100_000, 16);
  huge.writeUInt32BE(100_000, 20);
  const hugeFile = files.write('huge.png', huge);

  it.each([
    ['a text file', notPng, `${notPng}: not a PNG image (the file does not start with the PNG signature)`],
    ['a truncated PNG', truncated, `${truncated}: truncated: chunk IDAT at byte ${idatAt} needs ${idatEnd} bytes, the file has ${good.length - 40}`],
    ['a PNG with a flipped byte', damagedFile, `${damagedFile}: damaged PNG image: unrecognised content at end of stream`],
    ['a blank image', blankFile, `${blankFile}: no digit found: the image is one flat colour`],
    ['a header claiming 10^10 pixels', hugeFile, `${hugeFile}: 100000x100000 pixels is more than the 50000000-pixel limit`],
    ['a missing file', join(files.dir, 'nope.png'), `${join(files.dir, 'nope.png')}: no such file`],
    ['a folder', files.dir, `${files.dir}: is a directory, expected a PNG image`],
  ])('%s: one line naming the file, exit 1', (_what, file, message) => {
    const r = cli('mlp-predict', ['--weights', weights, file]);
    expect(r.stderr).toBe(`error: ${message}\n`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
  });

  // Uniform noise, 28x28, from a fixed LCG: after the preprocessing, 41.3% of its pixels are faint and 47.4% inked.
  let seed = 1;
  const noise = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < 28 * 28; p++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const v = Math.floor((seed / 0x7fffffff) * 256);
    noise.data.set([v, v, v, 255], 4 * p);
  }
  const noiseFile = files.write('noise.png', PNG.sync.write(noise));

  it('says when an image is far from MNIST: a warning on stderr, a mark and a --json field; the prediction unchanged', () => {
    const seven = files.write('seven-again.png', renderPng(digit(0), VARIANTS[1]));
    const r = cli('mlp-predict', ['--weights', weights, noiseFile, seven]);
    expect(r.stderr).toBe(
      `warning: ${noiseFile}: unlike any MNIST digit (41.3% faint pixels, 47.4% inked; no MNIST training digit has over 12.1% and 44.8%): its prediction says little\n`,
    );
    expect(r.status).toBe(0);
    const [noiseLine, sevenLine] = r.stdout.trimEnd().split('\n');
    expect(noiseLine).toMatch(/^\S+noise\.png +\d +\d+\.\d% +\d +\d+\.\d% +\d +\d+\.\d% {3}\(far from MNIST\)$/);
    expect(sevenLine).toMatch(/^\S+seven-again\.png +7 +\d+\.\d% +\d +\d+\.\d% +\d +\d+\.\d%$/);

    const j = cli('mlp-predict', ['--weights', weights, '--json', '--quiet', noiseFile, seven]);
    expect(j.stderr).toBe(r.stderr); // a warning: --quiet keeps it
    const out = JSON.parse(j.stdout) as { images: Array<{ predicted: number; probabilities: number[]; far_from_mnist: boolean; faint_pixels: number; inked_pixels: number }> };
    expect(out.images.map((x) => x.far_from_mnist)).toEqual([true, false]);
    expect(out.images[0].faint_pixels).toBeCloseTo(0.413, 3);
    expect(out.images[0].inked_pixels).toBeCloseTo(0.474, 3);
    expect(out.images[1].predicted).toBe(7);
    expect(noiseLine).toContain(`  ${out.images[0].predicted} ${(100 * Math.max(...out.images[0].probabilities)).toFixed(1).padStart(5)}%`);
  });

  it('the limits hold for MNIST: no training digit is far from MNIST; the stated maxima are the real ones', () => {
    const train = loadSplit({ images: null, labels: null }, 'train', 10);
    const x = new Float32Array(S * S);
    let faint = 0;
    let inked = 0;
    for (let i = 0; i < train.n; i++) {
      for (let p = 0; p < S * S; p++) x[p] = train.images[i * S * S + p] / 255;
      const t = typicality(x);
      faint = Math.max(faint, t.faint);
      inked = Math.max(inked, t.inked);
    }
    expect(faint).toBeCloseTo(MNIST_TRAIN_MAX.faint, 4);
    expect(inked).toBeCloseTo(MNIST_TRAIN_MAX.inked, 4);
    expect(faint).toBeLessThan(FAINT_LIMIT);
    expect(inked).toBeLessThan(INKED_LIMIT);
  });

  it('refuses weights that do not match the config', () => {
    const r = cli('mlp-predict', ['--weights', weights, '--set', 'model.layers=[784,10]', notPng]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: .*model\.layers/);
  });
});
