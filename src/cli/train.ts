// mlp-train: config -> data -> model -> trainer -> run folder, in named steps:
// options, config (new or resumed), start (data, model, trainer, run folder),
// train (hooks that write each epoch), final evaluation, summary and report.
import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { configTable } from '../config/describe.js';
import { configDiff, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadRunData, type RunData } from '../data/load.js';
import type { Dataset } from '../data/mnist.js';
import { EVAL_CHUNK, Evaluator, type Evaluation } from '../eval/evaluate.js';
import { UserError } from '../errors.js';
import { selectKernels } from '../kernels/matmul.js';
import { Mlp } from '../model/mlp.js';
import { CHECKPOINT_FILE, RunDir } from '../output/run-dir.js';
import { terminalChart } from '../report/terminal.js';
import type { EpochMetrics } from '../train/state.js';
import { Trainer, type TrainResult } from '../train/trainer.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { writeReportSafely } from './report.js';
import { openCheckpoint, restoreCheckpoint, resumeConfig, type OpenCheckpoint } from './resume.js';
import { EXIT_INTERRUPTED, EXIT_OK, Interrupt } from './run.js';

interface TrainOptions {
  config?: string;
  set: string[];
  out?: string;
  resume?: string;
  force?: boolean;
  printConfig?: boolean;
  quiet?: boolean;
  json?: boolean;
  debug?: boolean;
  helpConfig?: boolean;
}

/** What a started run is made of. */
interface Run {
  config: Config;
  data: RunData & { train: Dataset; test: Dataset };
  model: Mlp;
  trainer: Trainer;
  dir: RunDir;
}

export async function trainMain(argv: string[]): Promise<number> {
  const opts = parseOptions(argv);
  if (opts.helpConfig) {
    process.stdout.write(`${configTable()}\n`);
    return EXIT_OK;
  }
  if (opts.resume !== undefined && opts.out !== undefined) throw new UserError('--resume continues in its own folder: drop --out');
  const checkpoint = opts.resume !== undefined ? openCheckpoint(opts.resume) : null;
  const config = checkpoint ? resumeConfig(checkpoint, opts.config, opts.set) : loadConfig(opts.config, opts.set);
  if (opts.out !== undefined) config.output.dir = opts.out;
  if (opts.printConfig) {
    process.stdout.write(opts.json ? `${JSON.stringify(config, null, 2)}\n` : toYaml(config));
    return EXIT_OK;
  }
  const log = new Log({ quiet: opts.quiet });
  const t0 = performance.now();
  const run = startRun(config, opts, checkpoint, log);
  const result = await train(run, log);
  if (result.stopped === 'interrupted') {
    logInterrupted(run, log);
    return EXIT_INTERRUPTED;
  }
  if (result.stopped === 'early_stopping') {
    log.info(`early stopping: no better validation accuracy for ${config.training.early_stopping.patience} epochs`);
  }
  const { final, bestEval, predicted } = finalEvaluation(run, result);
  const summary = runSummary(run, result, final, bestEval, (performance.now() - t0) / 1000);
  run.dir.writeJson('summary.json', summary);
  // After the weights and summary are on disk: a report that fails costs only itself.
  await writeReportSafely(log, run.dir.dir, {
    title: `mlp-mnist run ${run.dir.dir}`,
    training: { config, metrics: result.metrics, summary },
    evaluation: { weights: 'model.safetensors (the last epoch)', model: run.model, ds: run.data.test, evaluation: final, predicted },
  }, opts.debug === true);
  const bestNote = bestEval ? `  (best val epoch ${result.best!.epoch}: test ${pct(bestEval.accuracy)})` : '';
  log.info(
    `${log.c.bold('test accuracy')} ${log.c.green(pct(final.accuracy))}  loss ${final.loss.toFixed(4)}${bestNote}  ` +
      `in ${summary.total_seconds.toFixed(1)} s; run folder ${run.dir.dir}`,
  );
  if (log.tty && result.metrics.length > 1) log.info(terminalChart(result.metrics)); // not into pipes or log files, nor with --quiet
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return EXIT_OK;
}

function parseOptions(argv: string[]): TrainOptions {
  const program = addCommonOptions(
    new Command('mlp-train')
      .description('Train a multilayer perceptron on MNIST with backpropagation.')
      .option('-c, --config <file>', 'config file, JSON or YAML (an empty file means all defaults)')
      .option('-s, --set <key=value>', 'override a config key, e.g. training.lr=0.1 (repeatable)', collect, [])
      .option('-o, --out <dir>', 'run folder (overrides output.dir)')
      .option('--resume <dir>', 'continue the run in <dir> from its checkpoint (only training.epochs and output.* may change)')
      .option('--force', 'overwrite the run already in the run folder')
      .option('--print-config', 'print the resolved config as YAML and exit')
      .option('--help-config', 'print every config key with its default and description, and exit')
      .option('--json', 'print summary.json on stdout at the end'),
  );
  program.parse(argv, { from: 'node' });
  return program.opts<TrainOptions>();
}

/** Data, model and trainer; a new run folder, or the resumed one with the checkpoint restored; the start-up summary. */
function startRun(config: Config, opts: TrainOptions, checkpoint: OpenCheckpoint | null, log: Log): Run {
  const source = checkpoint?.file ?? opts.config ?? 'config';
  const loaded = loadRunData(config, source, { train: true, test: true });
  const data = { ...loaded, train: loaded.train!, test: loaded.test! };
  const model = new Mlp(config.model);
  model.init(config.model.init, config.model.seed, config.model.output_bias);
  const trainer = new Trainer(config, model, data.train, data.validation);
  const sizes = { train: data.train.n, validation: data.validation?.n ?? 0, test: data.test.n };
  if (!checkpoint) {
    const dir = RunDir.create(config.output.dir ?? defaultRunDir(), opts.force === true);
    config.output.dir = dir.dir;
    dir.writeConfig(config);
    printStartup(log, config, opts.config, model, trainer, sizes, dir.dir);
    return { config, data, model, trainer, dir };
  }
  if (checkpoint.ck) restoreCheckpoint(checkpoint.file, checkpoint.ck, trainer);
  const resumed = RunDir.resume(checkpoint.dir, checkpoint.ck?.state.metrics ?? []);
  const dir = resumed.run;
  dir.writeConfig(config);
  printStartup(log, config, opts.config, model, trainer, sizes, dir.dir);
  const st = trainer.state();
  log.info(
    checkpoint.ck
      ? `resuming  after epoch ${st.epochsDone}${st.batchesDone > 0 ? `, batch ${st.batchesDone}/${trainer.batchesPerEpoch} of epoch ${st.epochsDone + 1}` : ''}`
      : `resuming  from the start: the run stopped before its first checkpoint`,
  );
  for (const r of resumed.repaired) log.warn(`${dir.dir}: ${r}`);
  return { config, data, model, trainer, dir };
}

/** Train with hooks that log progress, write each epoch's metrics and weights, and checkpoint; Ctrl-C stops at the next batch. */
async function train({ config, model, trainer, dir }: Run, log: Log): Promise<TrainResult> {
  const interrupt = new Interrupt();
  const epochs = config.training.epochs;
  const width = String(epochs).length;
  try {
    return await trainer.run({
      onEpochStart: (epoch, batches) => log.startProgress(`epoch ${String(epoch).padStart(width)}/${epochs}`, batches),
      onBatch: (_epoch, batch, _batches, loss) => log.progress(batch, loss),
      onBest: (_epoch, params) => {
        if (config.output.save_best) dir.writeWeights('best.safetensors', model, config, params);
      },
      onEpochEnd: (m) => {
        log.stopProgress();
        dir.addEpoch(m);
        dir.writeWeights('model.safetensors', model, config);
        log.info(epochLine(m, epochs, width, log));
      },
      onCheckpoint: (snapshot) => dir.writeCheckpoint({ ...snapshot, config }),
      shouldStop: () => interrupt.requested !== null,
    });
  } finally {
    log.stopProgress();
    interrupt.dispose();
  }
}

function logInterrupted({ trainer, dir }: Run, log: Log): void {
  const st = trainer.state();
  log.warn(
    `interrupted at epoch ${st.epochsDone + 1}, batch ${st.batchesDone}/${trainer.batchesPerEpoch}; ` +
      `checkpoint saved in ${dir.path(CHECKPOINT_FILE)}` +
      (st.epochsDone > 0 ? `, ${dir.path('model.safetensors')} holds the weights after epoch ${st.epochsDone}` : ''),
  );
  log.warn(`resume with: mlp-train --resume ${dir.dir}`);
}

/** The test set scored with the last weights, and with the best-validation weights when there are some. */
function finalEvaluation({ config, data, model }: Run, result: TrainResult): { final: Evaluation; bestEval: Evaluation | null; predicted: Uint8Array } {
  const tester = new Evaluator(model, data.test, config.loss, EVAL_CHUNK, config.training.kernel);
  const predicted = new Uint8Array(data.test.n);
  const final = tester.run(predicted);
  let bestEval: Evaluation | null = null;
  if (result.best) {
    const last = Float32Array.from(model.params);
    model.params.set(result.best.params);
    bestEval = tester.run();
    model.params.set(last);
  }
  return { final, bestEval, predicted };
}

function runSummary({ config, data, model }: Run, result: TrainResult, final: Evaluation, bestEval: Evaluation | null, totalSeconds: number) {
  const trainSeconds = result.metrics.reduce((s, m) => s + m.seconds, 0);
  return {
    test_accuracy: final.accuracy,
    test_loss: final.loss,
    test_samples: final.n,
    best: result.best && bestEval
      ? { epoch: result.best.epoch, val_accuracy: result.best.val_accuracy, test_accuracy: bestEval.accuracy, test_loss: bestEval.loss }
      : null,
    epochs: result.metrics.length,
    stopped: result.stopped,
    final_train_loss: result.metrics.at(-1)?.loss ?? null,
    final_train_accuracy: result.metrics.at(-1)?.train_accuracy ?? null,
    train_seconds: trainSeconds,
    total_seconds: totalSeconds,
    gflops: (model.trainFlopsPerSample() * data.train.n * result.metrics.length) / trainSeconds / 1e9,
    layers: config.model.layers,
    parameters: model.params.length,
    samples: { train: data.train.n, validation: data.validation?.n ?? 0, test: data.test.n },
  };
}

function defaultRunDir(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `runs/${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function epochLine(m: EpochMetrics, epochs: number, width: number, log: Log): string {
  const val = m.val_accuracy === null ? '' : `  val ${log.c.green(pct(m.val_accuracy))}`;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}  loss ${m.loss.toFixed(4)}  acc ${pct(m.train_accuracy)}${val}` +
    `  ${m.seconds.toFixed(2)} s  ${m.gflops.toFixed(1)} GFLOP/s`
  );
}

function printStartup(
  log: Log,
  config: Config,
  file: string | undefined,
  model: Mlp,
  trainer: Trainer,
  n: { train: number; validation: number; test: number },
  dir: string,
): void {
  const { c } = log;
  const m = config.model;
  const t = config.training;
  const sched = t.lr_schedule;
  const schedText =
    sched.type === 'step' ? `, x${sched.factor} every ${sched.every} epochs` : sched.type === 'cosine' ? ', cosine decay' : '';
  const warmText = sched.warmup_steps > 0 ? `, warm-up ${sched.warmup_steps} steps` : '';
  const terms: string[] = [config.loss];
  if (config.regularization.discriminative > 0) terms.push(`discriminative gamma ${config.regularization.discriminative}`);
  if (config.regularization.l2 > 0) terms.push(`l2 lambda ${config.regularization.l2}`);
  const diff = configDiff(config).map((d) => `${d.key}=${JSON.stringify(d.value)}`);
  const fallback = selectKernels(t.kernel).fallback;
  if (fallback) log.warn(fallback);
  log.info(
    [
      `${c.bold('mlp-mnist')} ${m.layers.join('-')} (${m.hidden} hidden, ${m.output} output), ` +
        `${model.params.length.toLocaleString('en-US')} parameters, init ${m.init}, seed ${m.seed}`,
      `objective  ${terms.join(' + ')}`,
      `data       train ${n.train}, validation ${n.validation}, test ${n.test}` +
        (config.data.train.images === null ? ' (bundled MNIST, checksums verified)' : ''),
      `training   ${t.epochs} epochs, batch ${trainer.batchSize} (${trainer.batchesPerEpoch} steps/epoch), ` +
        `lr ${t.lr}${schedText}${warmText}, momentum ${t.momentum}, ${selectKernels(t.kernel).name} kernels`,
      `config     ${file ?? '(defaults)'}; differs from defaults: ${diff.length ? diff.join(' ') : 'nothing'}`,
      `run folder ${dir}`,
    ].join('\n'),
  );
}
