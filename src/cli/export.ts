// mlp-export: saved weights to other tools' formats (safetensors stays the native one).
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic.js';
import { ONNX_IR_VERSION, ONNX_OPSET, onnxModel } from '../output/onnx.js';
import { weightsJson } from '../output/weights-json.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { Log } from './log.js';
import { EXIT_OK } from './run.js';

interface ExportOptions {
  weights: string;
  config?: string;
  set: string[];
  onnx?: string;
  json?: string;
  quiet?: boolean;
}

export async function exportMain(argv: string[]): Promise<number> {
  const program = addCommonOptions(
    new Command('mlp-export')
      .description(`Write saved weights as an ONNX model (opset ${ONNX_OPSET}: Gemm + activation per layer) and/or readable JSON.`)
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .option('-c, --config <file>', 'config overriding the one stored in the weights (activations)')
      .option('-s, --set <key=value>', 'override a config key (repeatable)', collect, [])
      .option('--onnx <file>', 'write an ONNX model')
      .option('--json <file>', 'write the weights as JSON'),
  );
  program.parse(argv, { from: 'node' });
  const opts = program.opts<ExportOptions>();
  if (opts.onnx === undefined && opts.json === undefined) throw new UserError('nothing to write: give --onnx FILE and/or --json FILE');

  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model);
  const log = new Log({ quiet: opts.quiet });
  const layers = model.spec.layers.join('-');
  if (opts.onnx !== undefined) {
    const bytes = onnxModel(model, config);
    writeFileAtomic(opts.onnx, bytes);
    log.info(
      `wrote ${opts.onnx}: ONNX opset ${ONNX_OPSET}, IR ${ONNX_IR_VERSION}, ${layers} (${model.spec.hidden} hidden, ${model.spec.output} output), ` +
        `input "input" [batch, ${model.inputs}] -> output "output" [batch, ${model.outputs}], ${bytes.length} bytes`,
    );
  }
  if (opts.json !== undefined) {
    const text = weightsJson(model);
    writeFileAtomic(opts.json, text);
    log.info(`wrote ${opts.json}: ${layers} weights as JSON, ${Buffer.byteLength(text)} bytes`);
  }
  return EXIT_OK;
}
