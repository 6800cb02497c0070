// mlp-grad: one forward/backward pass on given samples, printing every
// pre-activation z, activation a, delta = dE/dz and gradient by layer: the
// seeds' derivations, executed. Computed in float64 from the stored weights.
import type { ChalkInstance } from 'chalk';
import { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { readSamples } from '../data/samples.js';
import { UserError } from '../errors.js';
import type { Vec } from '../kernels/matmul.js';
import type { Mlp } from '../model/mlp.js';
import { Pass } from '../model/pass.js';
import type { OutputBatch } from '../objective/batch.js';
import { Objective, objectiveSpec } from '../objective/objective.js';
import { addCommonOptions, collect, configForWeights } from './common.js';
import { resultColours, writeResult } from './output.js';
import { EXIT_OK } from './run.js';

interface GradOptions {
  weights: string;
  input: string;
  config?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
}

/** Everything mlp-grad prints; also the --json object's fields, in its key order. */
interface GradResult {
  loss: { data: number; discriminative: number; l2: number; total: number };
  gradients: Record<string, number[] | number[][]>;
  layers: Array<{ z: number[][]; a: number[][]; delta: number[][] }>;
  dE_dY: number[][];
}

/** A flat row-major buffer as nested rows. */
function matrix(v: Vec, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(v.subarray(r * cols, (r + 1) * cols)));
}

export async function gradMain(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  const { config, weights } = configForWeights(opts.weights, opts.config, opts.set);
  const model = weights.build(config.model, Float64Array);
  const result = gradPass(config, model, opts.input);
  writeResult(opts.json ? `${JSON.stringify(result)}\n` : `${gradText(config, model, result, resultColours())}\n`);
  return EXIT_OK;
}

function parseOptions(argv: string[]): GradOptions {
  const program = addCommonOptions(
    new Command('mlp-grad')
      .description('One forward/backward pass on given samples: every z, a, delta and gradient, by layer.')
      .requiredOption('-w, --weights <file>', 'weights file (safetensors)')
      .requiredOption('-i, --input <file>', 'samples: {"x": [[...]], "labels": [...]} or {"x", "targets"}')
      .option('-c, --config <file>', 'config overriding the one stored in the weights (objective; not the model)')
      .option('-s, --set <key=value>', 'override a config key, e.g. regularization.discriminative=0.1 (repeatable)', collect, [])
      .option('--json', 'print one JSON object on stdout'),
  );
  program.parse(argv, { from: 'node' });
  return program.opts<GradOptions>();
}

/** The forward/backward pass on the samples of `input`, with every intermediate as nested rows. */
function gradPass(config: Config, model: Mlp, input: string): GradResult {
  const O = model.outputs;
  const s = readSamples(input, model.inputs, O);
  const pass = new Pass(model, s.n, 'naive');
  const objective = new Objective(objectiveSpec(config), model, pass);
  if (objective.needsLabels && s.labels === null) {
    throw new UserError(`${input}: the discriminative term (gamma ${config.regularization.discriminative}) needs "labels"`);
  }

  pass.forward(s.n, s.X);
  const b: OutputBatch = { n: s.n, O, Y: pass.Y, Z: pass.logits, D: s.D, labels: s.labels };
  const loss = objective.values(b);
  objective.backward(pass, b);

  // a maxout layer's z and delta have a column per piece (O = H k), its a one per unit (H)
  const layers = model.slots.map((slot, l) => ({
    z: matrix(pass.Z[l], s.n, slot.O),
    a: matrix(pass.A[l], s.n, slot.units),
    delta: matrix(pass.delta[l], s.n, slot.O),
  }));
  const gradients: Record<string, number[] | number[][]> = {};
  model.slots.forEach((slot, l) => {
    gradients[`layers.${l}.weight`] = matrix(pass.dW[l], slot.O, slot.I);
    gradients[`layers.${l}.bias`] = Array.from(pass.db[l]);
  });
  const dE_dY = matrix(pass.dY, s.n, O);
  const lossOut = { data: loss.data, discriminative: loss.discriminative, l2: loss.l2, total: loss.total };
  return { loss: lossOut, gradients, layers, dE_dY };
}

/** The human-readable listing: the objective and loss, then per layer z, a, (dE/dy), delta, dE/dW, dE/db. */
function gradText(config: Config, model: Mlp, { loss, gradients, layers, dE_dY }: GradResult, c: ChalkInstance): string {
  const n = dE_dY.length;
  const fmt = (x: number): string => x.toPrecision(8);
  const show = (name: string, m: number[][] | number[]): string => {
    const rows: number[][] = m.length > 0 && Array.isArray(m[0]) ? (m as number[][]) : [m as number[]];
    return rows.map((r, i) => `  ${(i === 0 ? name : '').padEnd(8)}[${r.map(fmt).join(', ')}]`).join('\n');
  };
  const out: string[] = [
    `${c.bold('objective')} ${config.loss}, gamma ${config.regularization.discriminative}, lambda ${config.regularization.l2}; ` +
      `E summed over ${n} sample${n === 1 ? '' : 's'}, gradients not divided by d (float64)`,
    `${c.bold('loss')}      data ${fmt(loss.data)}  discriminative ${fmt(loss.discriminative)}  l2 ${fmt(loss.l2)}  total ${fmt(loss.total)}`,
  ];
  model.slots.forEach((slot, l) => {
    const act = l === model.L - 1 ? config.model.output : config.model.hidden;
    const k = slot.O / slot.units;
    const pieces = k === 1 ? '' : ` of ${k} pieces (z, delta: ${slot.O} columns; a[h] = max_j z[${k}h + j])`;
    out.push('', c.bold(`layer ${l}: ${slot.I} -> ${slot.units}, ${act}${pieces}`));
    out.push(show('z', layers[l].z), show('a', layers[l].a));
    if (l === model.L - 1) out.push(show('dE/dy', dE_dY));
    out.push(show('delta', layers[l].delta));
    out.push(show('dE/dW', gradients[`layers.${l}.weight`]), show('dE/db', gradients[`layers.${l}.bias`]));
  });
  return out.join('\n');
}
