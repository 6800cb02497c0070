// mlp-predict: classify PNG images of handwritten digits with saved weights.
import { Command } from 'commander';
import { readDigitPng, SIDE } from '../data/png-digit.js';
import { UserError } from '../errors.js';
import { predict } from '../eval/predict.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { EXIT_OK } from './run.js';

interface PredictOptions {
  weights: string;
  config?: string;
  set: string[];
  top: string;
  json?: boolean;
}

export async function predictMain(argv: string[]): Promise<number> {
  const program = addCommonOptions(
    new Command('mlp-predict')
      .description(
        'Classify PNG images of handwritten digits (any size, dark on light or light on dark): each is cropped to the digit, ' +
          'scaled to 20x20 and centred by its centre of mass in 28x28, as MNIST was made.',
      )
      .argument('<image...>', 'PNG files')
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .option('-c, --config <file>', 'config overriding the one stored in the weights (activations)')
      .option('-s, --set <key=value>', 'override a config key (repeatable)', collect, [])
      .option('--top <k>', 'how many classes to print per image', '3')
      .option('--json', 'print one JSON object on stdout'),
  );
  program.parse(argv, { from: 'node' });
  const opts = program.opts<PredictOptions>();
  const images = program.args;
  const top = Number(opts.top);
  if (!Number.isInteger(top) || top < 1) throw new UserError(`--top: expected a whole number >= 1, got ${JSON.stringify(opts.top)}`);

  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model);
  if (model.inputs !== SIDE * SIDE) {
    throw new UserError(`${opts.weights}: the network takes ${model.inputs} inputs; mlp-predict makes 28x28 = 784-pixel images`);
  }
  const X = new Float32Array(images.length * SIDE * SIDE);
  images.forEach((file, i) => X.set(readDigitPng(file), i * SIDE * SIDE));
  const results = predict(model, X, images.length, config.training.kernel); // the kernel mlp-eval scores with

  if (opts.json) {
    const out = results.map((r, i) => ({ image: images[i], predicted: r.predicted, probabilities: r.probabilities }));
    process.stdout.write(`${JSON.stringify({ weights: opts.weights, images: out })}\n`);
    return EXIT_OK;
  }
  const width = Math.max(...images.map((f) => f.length));
  results.forEach((r, i) => {
    const ranked = r.probabilities
      .map((p, digit) => ({ digit, p }))
      .sort((a, b) => b.p - a.p)
      .slice(0, top)
      .map(({ digit, p }) => `${digit} ${(100 * p).toFixed(1).padStart(5)}%`);
    process.stdout.write(`${images[i].padEnd(width)}  ${ranked.join('   ')}\n`);
  });
  return EXIT_OK;
}
