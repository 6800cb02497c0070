// mlp-predict: classify PNG images of handwritten digits with saved weights.
import { Command } from 'commander';
import { readPredictImages } from '../data/predict-input.js';
import { classNames, PRESETS, storage } from '../data/presets.js';
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
  const { opts, files, top } = parseOptions(argv);
  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model);
  const preset = config.data.preset;
  const options = { inputs: model.inputs, rescale: PRESETS[preset].handwriting, transpose: storage(config.data).transpose };
  const inputs = files.flatMap((file) => readPredictImages(file, options));
  const images = inputs.map((p) => p.name);
  const X = new Float32Array(inputs.length * model.inputs);
  inputs.forEach((p, i) => X.set(p.x, i * model.inputs));
  const results = predict(model, X, inputs.length, config.training.kernel); // the kernel mlp-eval scores with
  // the typicality limits are MNIST's digits' (predict.ts): other datasets get no warning
  const typical = inputs.map((p) => (preset === 'mnist' ? typicality(p.x) : { ...typicality(p.x), far: false }));
  warnFarFromMnist(new Log({ quiet: opts.quiet }), images, typical);
  const names = classNames(config.data, model.outputs);
  if (opts.json) {
    writeResult(`${JSON.stringify({ weights: opts.weights, images: jsonResults(images, results, typical, names) })}\n`);
  } else {
    writeResult(table(images, results, typical, top, names));
  }
  return EXIT_OK;
}

function parseOptions(argv: string[]): { opts: PredictOptions; files: string[]; top: number } {
  const program = addCommonOptions(
    new Command('mlp-predict')
      .description(
        'Classify PNG images of handwritten digits (any size, dark on light or light on dark): each is cropped to the digit, ' +
          'scaled to 20x20 and centred by its centre of mass in 28x28, as MNIST was made. An image unlike any MNIST digit ' +
          `(more than ${100 * FAINT_LIMIT}% faint pixels or ${100 * INKED_LIMIT}% inked ones, as noise has) gets a warning on stderr ` +
          'and "far_from_mnist": true in --json; its prediction says little. A model trained with data.preset: fashion-mnist takes ' +
          "PNGs of exactly its input size (28x28), used as they are. IDX images files (u8 [n, rows, cols], .gz allowed) give every " +
          "image they hold, transposed as data.transpose says; their rows x cols must be the network's input. Classes are named as the run's data.preset names them.",
      )
      .argument('<image...>', 'PNG files or IDX images files')
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
  return { opts, files: program.args, top };
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

function jsonResults(images: string[], results: Prediction[], typical: Typicality[], names: string[]) {
  return results.map((r, i) => ({
    image: images[i],
    predicted: r.predicted,
    class: names[r.predicted],
    probabilities: r.probabilities,
    far_from_mnist: typical[i].far,
    faint_pixels: typical[i].faint,
    inked_pixels: typical[i].inked,
  }));
}

/** One line per image: its name, then the `top` classes with their probabilities. */
function table(images: string[], results: Prediction[], typical: Typicality[], top: number, names: string[]): string {
  const width = Math.max(...images.map((f) => f.length));
  const lines = results.map((r, i) => {
    const ranked = r.probabilities
      .map((p, digit) => ({ digit, p }))
      .sort((a, b) => b.p - a.p)
      .slice(0, top)
      .map(({ digit, p }) => `${names[digit]} ${(100 * p).toFixed(1).padStart(5)}%`);
    return `${images[i].padEnd(width)}  ${ranked.join('   ')}${typical[i].far ? '   (far from MNIST)' : ''}\n`;
  });
  return lines.join('');
}

function pctOf(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
