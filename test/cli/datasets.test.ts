// Other datasets end to end: MNIST written transposed on disk and trained
// with data.dir + data.transpose gives the plain run's weights bit for bit; a
// run with a preset's class names shows them in mlp-eval, mlp-predict and the
// report; mlp-predict refuses images of another size than the network's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSplit, transposeImages } from '../../src/data/mnist.js';
import { IDX_NAMES } from '../../src/data/presets.js';
import { cli } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';
import { idx } from '../helpers/idx.js';

const TRAIN = 1000, TEST = 300, S = 28;

/** The first images of bundled MNIST in `dir` under the four standard names, transposed and gzipped or not. */
function writeMnist(dir: string, transpose: boolean): void {
  mkdirSync(dir, { recursive: true });
  for (const [split, n] of [['train', TRAIN], ['test', TEST]] as const) {
    const ds = loadSplit({ images: null, labels: null }, split, 10);
    const px = ds.images.subarray(0, n * S * S);
    const images = transpose ? transposeImages(px, n, S, S) : px;
    const ext = transpose ? '.gz' : '';
    const pack = (b: Uint8Array): Uint8Array => (transpose ? gzipSync(b) : b);
    writeFileSync(join(dir, IDX_NAMES[split].images + ext), pack(idx([n, S, S], images)));
    writeFileSync(join(dir, IDX_NAMES[split].labels + ext), pack(idx([n], ds.labels.subarray(0, n))));
  }
}

/** The tensor bytes of a safetensors file (after the 8-byte length and the JSON header, which holds the config). */
function tensorBytes(file: string): Buffer {
  const b = readFileSync(file);
  return b.subarray(8 + Number(b.readBigUInt64LE(0)));
}

const files = useTempFiles('mlp-datasets-');
const SMALL = 'model: {layers: [784, 32, 10]}\ntraining: {epochs: 2, batch_size: 50, lr: 0.5, lr_schedule: {warmup_steps: 10}}\n';

describe('MNIST stored transposed (as EMNIST is), read with data.transpose: true', () => {
  beforeAll(() => {
    writeMnist(join(files.dir, 'plain'), false);
    writeMnist(join(files.dir, 'transposed'), true);
    files.write('plain.yaml', `data: {dir: plain}\n${SMALL}`); // relative: the config file's folder
    files.write('transposed.yaml', `data: {dir: transposed, transpose: true}\n${SMALL}`);
  });

  it('trains to the same weights, bit for bit, as the plain files', () => {
    const runs = ['plain', 'transposed'].map((name) => {
      const r = cli('mlp-train', ['--config', join(files.dir, `${name}.yaml`), '--out', join(files.dir, `run-${name}`), '-q']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return tensorBytes(join(files.dir, `run-${name}`, 'model.safetensors'));
    });
    expect(runs[1].equals(runs[0])).toBe(true);
  });

  it('without data.transpose the same files give other weights (the test can tell)', () => {
    files.write('untransposed.yaml', `data: {dir: transposed}\n${SMALL}`);
    const r = cli('mlp-train', ['--config', join(files.dir, 'untransposed.yaml'), '--out', join(files.dir, 'run-untransposed'), '-q']);
    expect(r.status).toBe(0);
    const plain = tensorBytes(join(files.dir, 'run-plain', 'model.safetensors'));
    expect(tensorBytes(join(files.dir, 'run-untransposed', 'model.safetensors')).equals(plain)).toBe(false);
  });
});

describe('class names of a preset in mlp-eval, mlp-predict and the report', () => {
  let weights: string;
  beforeAll(() => {
    writeMnist(join(files.dir, 'named'), false);
    // fashion-mnist's settings and names on files in data.dir (the preset's own folder is not needed)
    files.write('named.yaml', `data: {dir: named, preset: fashion-mnist}\n${SMALL}`);
    const run = join(files.dir, 'run-named');
    const r = cli('mlp-train', ['--config', join(files.dir, 'named.yaml'), '--out', run, '-q']);
    expect(r.status).toBe(0);
    weights = join(run, 'model.safetensors');
  });

  it('mlp-eval names the classes in its table and its JSON (the run folder records the preset)', () => {
    const r = cli('mlp-eval', ['--weights', weights]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('classes  0 T-shirt/top, 1 Trouser, 2 Pullover');
    expect(r.stdout).toMatch(/\n +Ankle boot +\d+\.\d\d% +\d+\.\d\d% +\d+\n/);
    const j = JSON.parse(cli('mlp-eval', ['--weights', weights, '--json']).stdout) as { per_class: Array<{ name: string }> };
    expect(j.per_class.map((k) => k.name)).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  });

  it('the report names them in its per-class table', () => {
    const html = readFileSync(join(files.dir, 'run-named', 'report.html'), 'utf8');
    expect(html).toContain('9 Ankle boot');
    expect(html).toContain('Precision and recall per class');
  });

  it('mlp-predict classifies every image of an IDX file and names the classes', () => {
    const images = join(files.dir, 'named', 't10k-images-idx3-ubyte');
    const r = cli('mlp-predict', ['--weights', weights, '--json', images]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { images: Array<{ image: string; predicted: number; class: string }> };
    expect(out.images).toHaveLength(TEST);
    expect(out.images[5].image).toBe(`${images}[5]`);
    const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    for (const x of out.images) expect(x.class).toBe(names[x.predicted]);
    // mlp-eval's confusion counts the same predictions: its accuracy is the share that match the labels
    const labels = loadSplit({ images: null, labels: null }, 'test', 10).labels;
    const right = out.images.filter((x, i) => x.predicted === labels[i]).length;
    const e = JSON.parse(cli('mlp-eval', ['--weights', weights, '--json']).stdout) as { accuracy: number };
    expect(right / TEST).toBe(e.accuracy);
  });

  it('mlp-predict refuses an IDX file of another image size, in one line naming it', () => {
    const small = files.write('small-images', idx([2, 20, 20], new Uint8Array(800)));
    const r = cli('mlp-predict', ['--weights', weights, small]);
    expect([r.status, r.stderr]).toEqual([1, `error: ${small}: images of 20x20 = 400 pixels, but the network takes 784 inputs\n`]);
  });

  it('mlp-predict refuses a PNG of another size for a dataset whose images are not rescaled (fashion-mnist)', () => {
    const png = new PNG({ width: 30, height: 20 });
    png.data.fill(255);
    const file = files.write('wide.png', PNG.sync.write(png));
    const r = cli('mlp-predict', ['--weights', weights, file]);
    expect([r.status, r.stderr]).toEqual([1, `error: ${file}: 30x20 image, but the network takes 28x28 = 784-pixel images (this dataset's images are not rescaled)\n`]);
  });
});
