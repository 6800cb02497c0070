// mlp-eval: score a weights file on the test (or train) set. The figures are
// results (stdout); --predictions writes one row per sample for error analysis.
import { join } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { Command, Option } from 'commander';
import type { KernelName } from '../config/schema.js';
import { loadRunData } from '../data/load.js';
import type { Dataset } from '../data/mnist.js';
import { splitFiles } from '../data/presets.js';
import { evaluate, type Evaluation } from '../eval/evaluate.js';
import { predictDataset } from '../eval/predict.js';
import type { Mlp } from '../model/mlp.js';
import { checkOutputs, writeFileAtomicAsync } from '../output/atomic.js';
import { REPORT_FILE, writeReport } from '../report/report.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { Log, pct } from './log.js';
import { resultColours, writeResult } from './output.js';
import { EXIT_OK } from './run.js';

interface EvalOptions {
  weights: string;
  split: 'test' | 'train';
  config?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  report?: string;
  predictions?: string;
}

export async function evalMain(argv: string[]): Promise<number> {
  const program = addCommonOptions(
    new Command('mlp-eval')
      .description('Score saved weights: accuracy, loss, confusion matrix, per-class precision and recall (on stdout).')
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .addOption(new Option('--split <name>', 'which MNIST split').choices(['test', 'train']).default('test'))
      .option('-c, --config <file>', 'config overriding the one stored in the weights (data paths, loss; not the model)')
      .option('-s, --set <key=value>', 'override a config key (repeatable)', collect, [])
      .option('--json', 'print one JSON object on stdout')
      .option(
        '--predictions <file>',
        'also write one CSV row per sample: index,label,predicted,p0..p9 (index in the split, probabilities as mlp-predict gives them)',
      )
      .option('--report <dir>', 'also write the evaluation half of the run report: <dir>/report.html and <dir>/report/*.svg'),
  );
  program.parse(argv, { from: 'node' });
  const opts = program.opts<EvalOptions>();

  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  if (opts.predictions !== undefined) {
    const inputs: Array<[string, string]> = [['--weights', opts.weights]];
    if (opts.config !== undefined) inputs.push(['--config', opts.config]);
    const files = splitFiles(config.data, opts.split, opts.config ?? opts.weights);
    if (files.images !== null) inputs.push([`data.${opts.split}.images`, files.images]);
    if (files.labels !== null) inputs.push([`data.${opts.split}.labels`, files.labels]);
    checkOutputs(inputs, [['--predictions', opts.predictions]]);
  }
  const model = weights.build(config.model);
  const source = opts.config ?? opts.weights;
  const data = loadRunData(
    // The whole split: no limit, no validation hold-out.
    { ...config, data: { ...config.data, limit: 0, validation: 0 } },
    source,
    { train: opts.split === 'train', test: opts.split === 'test' },
  );
  const ds = opts.split === 'train' ? data.train! : data.test!;
  const predicted = new Int32Array(ds.n);
  const result = evaluate(model, ds, config.loss, config.training.kernel, predicted); // the kernel mlp-train scored with

  const log = new Log({ quiet: opts.quiet });
  if (opts.json) {
    writeResult(`${JSON.stringify({ weights: opts.weights, split: opts.split, ...result })}\n`);
  } else {
    writeResult(`${report(result, opts.weights, opts.split, config.model.layers.join('-'), resultColours())}\n`);
  }
  if (opts.predictions !== undefined) {
    await writeFileAtomicAsync(opts.predictions, predictionsCsv(model, ds, config.training.kernel));
    log.info(`predictions  ${opts.predictions} (${ds.n} rows)`);
  }
  if (opts.report !== undefined) {
    await writeReport(opts.report, {
      title: `mlp-mnist evaluation of ${opts.weights}`,
      evaluation: { weights: opts.weights, model, ds, evaluation: result, predicted },
    });
    log.info(`report   ${join(opts.report, REPORT_FILE)}`);
  }
  return EXIT_OK;
}

/** index,label,predicted,p0..p{O-1}: one row per sample in file order; 6 significant digits per probability. */
function predictionsCsv(model: Mlp, ds: Dataset, kernel: KernelName): string {
  const header = ['index', 'label', 'predicted', ...Array.from({ length: model.outputs }, (_, j) => `p${j}`)].join(',');
  const rows: string[] = [header];
  predictDataset(model, ds, kernel, (i, p) => {
    rows.push(`${i},${ds.labels[i]},${p.predicted},${p.probabilities.map((v) => Number(v.toPrecision(6))).join(',')}`);
  });
  return `${rows.join('\n')}\n`;
}

function report(r: Evaluation, file: string, split: string, layers: string, c: ChalkInstance): string {
  const O = r.confusion.length;
  const w = Math.max(5, String(r.n).length + 1);
  const cell = (v: number | string): string => String(v).padStart(w);
  const named = r.per_class.some((k) => k.name !== String(k.digit));
  const word = named ? 'class' : 'digit';
  const nameWidth = Math.max(6, ...r.per_class.map((k) => k.name.length + 1));
  const lines = [
    `${c.bold('weights')}  ${file} (${layers})`,
    `${c.bold(split)} set  ${r.n} samples: accuracy ${c.green(pct(r.accuracy))}, loss ${r.loss.toFixed(5)} per sample`,
    ...(named ? ['', `classes  ${r.per_class.map((k) => `${k.digit} ${k.name}`).join(', ')}`] : []),
    '',
    `confusion matrix (rows: true ${word}, columns: predicted)`,
    `${cell('')}${Array.from({ length: O }, (_, j) => cell(j)).join('')}`,
    ...r.confusion.map((row, t) => `${cell(t)}${row.map((v, p) => (p === t ? c.green(cell(v)) : v > 0 ? c.yellow(cell(v)) : cell(v))).join('')}`),
    '',
    `${word.padStart(nameWidth)}${'precision'.padStart(11)}${'recall'.padStart(9)}${'support'.padStart(9)}`,
    ...r.per_class.map(
      (k) => `${k.name.padStart(nameWidth)}${pct(k.precision).padStart(11)}${pct(k.recall).padStart(9)}${String(k.support).padStart(9)}`,
    ),
  ];
  return lines.join('\n');
}
