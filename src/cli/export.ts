// mlp-export: saved weights to other tools' formats (safetensors stays the native one).
import { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Mlp } from '../model/mlp.js';
import { checkOutputs, writeFileAtomicAsync } from '../output/atomic.js';
import { inputFormat, ONNX_IR_VERSION, ONNX_OPSET, onnxModel, outputFormat } from '../output/onnx.js';
import { weightsJson } from '../output/weights-json.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { Log } from './log.js';
import { writeResult } from './output.js';
import { EXIT_OK } from './run.js';

interface ExportOptions {
  weights: string;
  config?: string;
  set: string[];
  onnx?: string;
  weightsJson?: string;
  json?: boolean;
  quiet?: boolean;
}

/** One written file, as --json reports it. */
interface Written {
  file: string;
  format: 'onnx' | 'weights-json';
  bytes: number;
}

export async function exportMain(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  checkFiles(opts);
  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model);
  const log = new Log({ quiet: opts.quiet });
  const written: Written[] = [];
  if (opts.onnx !== undefined) written.push(await writeOnnx(opts.onnx, model, config, log));
  if (opts.weightsJson !== undefined) written.push(await writeWeightsJson(opts.weightsJson, model, log));
  if (opts.json) writeResult(`${JSON.stringify(summary(opts.weights, model, written))}\n`);
  return EXIT_OK;
}

function parseOptions(argv: string[]): ExportOptions {
  const program = addCommonOptions(
    new Command('mlp-export')
      .description(
        `Write saved weights as an ONNX model (opset ${ONNX_OPSET}: Gemm + activation per layer) and/or readable JSON. ` +
          'Both take images as row-major 28x28 floats, pixel/255 in [0, 1], and give one score per class (argmax = the digit).',
      )
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .option('-c, --config <file>', 'config overriding the one stored in the weights (not its model)')
      .option('-s, --set <key=value>', 'override a config key (repeatable)', collect, [])
      .option('--onnx <file>', 'write an ONNX model')
      .option('--weights-json <file>', 'write the weights as JSON')
      .option('--json', 'print one JSON object on stdout describing the files written')
      .allowExcessArguments(true), // checked below, with a hint for the old `--json FILE`
  );
  program.parse(argv, { from: 'node' });
  const opts = program.opts<ExportOptions>();
  if (program.args.length > 0) {
    const hint = opts.json ? ' (--json takes no file: it prints a summary on stdout; write the weights as JSON with --weights-json FILE)' : '';
    throw new UserError(`unexpected argument ${JSON.stringify(program.args[0])}${hint}`);
  }
  return opts;
}

/** Something to write, and no output file that is an input or another output. */
function checkFiles(opts: ExportOptions): void {
  if (opts.onnx === undefined && opts.weightsJson === undefined) {
    throw new UserError('nothing to write: give --onnx FILE and/or --weights-json FILE');
  }
  const outputs: Array<[string, string]> = [];
  if (opts.onnx !== undefined) outputs.push(['--onnx', opts.onnx]);
  if (opts.weightsJson !== undefined) outputs.push(['--weights-json', opts.weightsJson]);
  const inputs: Array<[string, string]> = [['--weights', opts.weights]];
  if (opts.config !== undefined) inputs.push(['--config', opts.config]);
  checkOutputs(inputs, outputs);
}

async function writeOnnx(file: string, model: Mlp, config: Config, log: Log): Promise<Written> {
  const bytes = onnxModel(model, config);
  await writeFileAtomicAsync(file, bytes);
  log.info(
    `wrote ${file}: ONNX opset ${ONNX_OPSET}, IR ${ONNX_IR_VERSION}, ${model.spec.layers.join('-')} (${model.hiddenText()}, ${model.spec.output} output), ` +
      `input "input" [batch, ${model.inputs}] -> output "output" [batch, ${model.outputs}], ${bytes.length} bytes`,
  );
  return { file, format: 'onnx', bytes: bytes.length };
}

async function writeWeightsJson(file: string, model: Mlp, log: Log): Promise<Written> {
  const bytes = Buffer.from(weightsJson(model), 'utf8');
  await writeFileAtomicAsync(file, bytes);
  log.info(`wrote ${file}: ${model.spec.layers.join('-')} weights as JSON, ${bytes.length} bytes`);
  return { file, format: 'weights-json', bytes: bytes.length };
}

/** --json: the network and the files written. */
function summary(weights: string, model: Mlp, written: Written[]) {
  return {
    weights,
    layers: model.spec.layers,
    hidden: model.spec.hidden,
    ...(model.spec.hidden === 'maxout' && { maxout_pieces: model.pieces }),
    output: model.spec.output,
    input_format: inputFormat(model.inputs),
    output_format: outputFormat(model.spec.output, model.outputs),
    written,
  };
}
