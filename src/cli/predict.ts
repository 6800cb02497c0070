// mlp-predict: classify PNG images of handwritten digits with saved weights.
import { Command } from 'commander';
import { readDigitPng, SIDE } from '../data/png-digit.js';
import { UserError } from '../errors.js';
import { FAINT_LIMIT, INKED_LIMIT, MNIST_TRAIN_MAX, predict, typicality, type Prediction, type Typicality } from '../eval/predict.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { Log } from './log.js';
import { writeResult } from './output.js';
import { EXIT_OK } from './run.js';

interface PredictOptions {
  weights: string;
  config?: string;
  set: string[];
  top: string;
  json?: boolean;
  quiet?: boolean;
}

export async function predictMain(argv: string[]): Promise<number> {
  const { opts, images, top } = parseOptions(argv);
  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model);
  if (model.inputs !== SIDE * SIDE) {
    throw new UserError(`${opts.weights}: the network takes ${model.inputs} inputs; mlp-predict makes 28x28 = 784-pixel images`);
  }
  const X = new Float32Array(images.length * SIDE * SIDE);
  images.forEach((file, i) => X.set(readDigitPng(file), i * SIDE * SIDE));
  const results = predict(model, X, images.length, config.training.kernel); // the kernel mlp-eval scores with
  const typical = images.map((_, i) => typicality(X.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE)));
  warnFarFromMnist(new Log({ quiet: opts.quiet }), images, typical);
  if (opts.json) {
    writeResult(`${JSON.stringify({ weights: opts.weights, images: jsonResults(images, results, typical) })}\n`);
  } else {
    writeResult(table(images, results, typical, top));
  }
  return EXIT_OK;
}

function parseOptions(argv: string[]): { opts: PredictOptions; images: string[]; top: number } {
  const program = addCommonOptions(
    new Command('mlp-predict')
      .description(
        'Classify PNG images of handwritten digits (any size, dark on light or light on dark): each is cropped to the digit, ' +
          'scaled to 20x20 and centred by its centre of mass in 28x28, as MNIST was made. An image unlike any MNIST digit ' +
          `(more than ${100 * FAINT_LIMIT}% faint pixels or ${100 * INKED_LIMIT}% inked ones, as noise has) gets a warning on stderr ` +
          'and "far_from_mnist": true in --json; its prediction says little.',
      )
      .argument('<image...>', 'PNG files')
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .option('-c, --config <file>', 'config overriding the one stored in the weights (not its model)')
      .option('-s, --set <key=value>', 'override a config key (repeatable)', collect, [])
      .option('--top <k>', 'how many classes to print per image', '3')
      .option('--json', 'print one JSON object on stdout'),
  );
  program.parse(argv, { from: 'node' });
  const opts = program.opts<PredictOptions>();
  const top = Number(opts.top);
  if (!Number.isInteger(top) || top < 1) throw new UserError(`--top: expected a whole number >= 1, got ${JSON.stringify(opts.top)}`);
  return { opts, images: program.args, top };
}

function warnFarFromMnist(log: Log, images: string[], typical: Typicality[]): void {
  typical.forEach((t, i) => {
    if (!t.far) return;
    log.warn(
      `${images[i]}: unlike any MNIST digit (${pctOf(t.faint)} faint pixels, ${pctOf(t.inked)} inked; ` +
        `no MNIST training digit has over ${pctOf(MNIST_TRAIN_MAX.faint)} and ${pctOf(MNIST_TRAIN_MAX.inked)}): its prediction says little`,
    );
  });
}

function jsonResults(images: string[], results: Prediction[], typical: Typicality[]) {
  return results.map((r, i) => ({
    image: images[i],
    predicted: r.predicted,
    probabilities: r.probabilities,
    far_from_mnist: typical[i].far,
    faint_pixels: typical[i].faint,
    inked_pixels: typical[i].inked,
  }));
}

/** One line per image: its name, then the `top` classes with their probabilities. */
function table(images: string[], results: Prediction[], typical: Typicality[], top: number): string {
  const width = Math.max(...images.map((f) => f.length));
  const lines = results.map((r, i) => {
    const ranked = r.probabilities
      .map((p, digit) => ({ digit, p }))
      .sort((a, b) => b.p - a.p)
      .slice(0, top)
      .map(({ digit, p }) => `${digit} ${(100 * p).toFixed(1).padStart(5)}%`);
    return `${images[i].padEnd(width)}  ${ranked.join('   ')}${typical[i].far ? '   (far from MNIST)' : ''}\n`;
  });
  return lines.join('');
}

function pctOf(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
