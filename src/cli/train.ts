// mlp-train: config -> data -> model -> trainer -> run folder, in named steps:
// options, config (new or resumed), start (data, model, trainer, run folder),
// train (hooks that write each epoch), final evaluation, summary and report.
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { configTable } from '../config/describe.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadRunData, type RunData } from '../data/load.js';
import type { Dataset } from '../data/mnist.js';
import { EVAL_CHUNK, Evaluator, type Evaluation } from '../eval/evaluate.js';
import { UserError } from '../errors.js';
import { checkTrainMemory } from '../train/memory.js';
import { checkModelMemory } from '../model/memory.js';
import { hiddenPieces } from '../model/shape.js';
import { Mlp } from '../model/mlp.js';
import { RunDir } from '../output/run-dir.js';
import { CHECKPOINT_FILE } from '../output/run-files.js';
import { terminalChart } from '../report/terminal.js';
import { dataFingerprint, type DataFingerprint } from '../train/fingerprint.js';
import { warmupWarning } from '../train/schedule.js';
import { Trainer, type TrainResult } from '../train/trainer.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { resultColours, writeResult } from './output.js';
import { writeReportSafely } from './report.js';
import { openCheckpoint, restoreCheckpoint, resumeConfig, type OpenCheckpoint } from './resume.js';
import { EXIT_INTERRUPTED, EXIT_OK, Interrupt } from './run.js';
import { epochLine, printStartup } from './train-log.js';

interface TrainOptions {
  config?: string;
  set: string[];
  out?: string;
  resume?: string;
  force?: boolean;
  takeOverLock?: boolean;
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
  fingerprint: DataFingerprint; // of the training data, recorded in every checkpoint
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
  const { final, bestEval, predicted, bestPredicted } = finalEvaluation(run, result);
  const summary = runSummary(run, result, final, bestEval, (performance.now() - t0) / 1000);
  run.dir.writeJson('summary.json', summary);
  // After the weights and summary are on disk: a report that fails costs only itself.
  await writeReportSafely(log, run.dir.dir, {
    title: `mlp-mnist run ${run.dir.dir}`,
    training: { config, metrics: result.metrics, summary },
    evaluation: {
      weights: `model.safetensors (epoch ${result.metrics.length}, the last epoch)`, model: run.model, ds: run.data.test, evaluation: final, predicted,
      ...(bestEval && bestPredicted ? { best: {
        label: config.output.save_best
          ? `best.safetensors (epoch ${result.best!.epoch}, best validation accuracy)`
          : `epoch ${result.best!.epoch}, best validation accuracy (not saved: output.save_best is false)`,
        evaluation: bestEval, predicted: bestPredicted,
      } } : {}),
    },
  }, opts.debug === true);
  const bestNote = bestEval ? `  (best val epoch ${result.best!.epoch}: test ${pct(bestEval.accuracy)})` : '';
  // The result: on stdout whatever --quiet says; with --json, stdout holds the JSON alone and this line is a log.
  const c = opts.json ? log.c : resultColours();
  const accuracyLine =
    `${c.bold('test accuracy')} ${c.green(pct(final.accuracy))}  loss ${final.loss.toFixed(4)}${bestNote}  ` +
    `in ${summary.total_seconds.toFixed(1)} s; run folder ${run.dir.dir}`;
  if (opts.json) log.info(accuracyLine);
  else writeResult(`${accuracyLine}\n`);
  if (log.tty && result.metrics.length > 1) log.info(terminalChart(result.metrics)); // not into pipes or log files, nor with --quiet
  if (opts.json) writeResult(`${JSON.stringify({ ...summary, run_dir: run.dir.dir }, null, 2)}\n`);
  return EXIT_OK;
}

function parseOptions(argv: string[]): TrainOptions {
  const program = addCommonOptions(
    new Command('mlp-train')
      .description('Train a multilayer perceptron on MNIST with backpropagation.')
      .option('-c, --config <file>', 'config file, JSON or YAML (an empty file means all defaults)')
      .option('-s, --set <key=value>', 'override a config key, e.g. training.lr=0.1 (repeatable)', collect, [])
      .option('-o, --out <dir>', 'run folder (overrides output.dir)')
      .option('--resume <dir>', 'continue the run in <dir> from its checkpoint (only training.epochs, training.threads and output.* may change)')
      .option('--force', 'overwrite the run already in the run folder')
      .option('--print-config', 'print the resolved config as YAML and exit')
      .option('--help-config', 'print every config key with its default and description, and exit')
      .option('--json', 'print summary.json and run_dir (the run folder) on stdout at the end')
      // mlp-worker's: the queue handed this run here because its last host stopped answering
      .addOption(new Option('--take-over-lock', "take over the run folder's lock when another host holds it").hideHelp()),
  );
  program.parse(argv, { from: 'node' });
  return program.opts<TrainOptions>();
}

/** Data, model and trainer; a new run folder, or the resumed one with the checkpoint restored; the start-up summary. */
function startRun(config: Config, opts: TrainOptions, checkpoint: OpenCheckpoint | null, log: Log): Run {
  const source = checkpoint?.file ?? opts.config ?? 'config';
  checkModelMemory(config.model.layers, 4, hiddenPieces(config.model)); // a model too large for memory is refused before the data load
  const loaded = loadRunData(config, source, { train: true, test: true });
  const data = { ...loaded, train: loaded.train!, test: loaded.test! };
  checkTrainMemory(config, data.train, data.validation); // before the model allocates (the Trainer checks again)
  const model = new Mlp(config.model);
  model.init(config.model.init, config.model.seed, config.model.output_bias);
  const trainer = new Trainer(config, model, data.train, data.validation);
  const sizes = { train: data.train.n, validation: data.validation?.n ?? 0, test: data.test.n };
  const fingerprint = dataFingerprint(data.train, data.validation);
  if (!checkpoint) {
    const saved = savedRunFolder(config, opts);
    const ownName = config.output.dir === null || saved !== null; // the run names its folder itself
    const created = RunDir.create(ownName ? null : config.output.dir, opts.force === true, opts.takeOverLock === true);
    const dir = created.run;
    config.output.dir = dir.dir;
    dir.writeConfig(config);
    const savedNote = saved === null ? '' : ` (not ${saved}, the config's output.dir: that folder holds the run the config was saved from)`;
    printStartup(log, config, opts.config, model, trainer, sizes, `${dir.dir}${savedNote}`, ownName);
    for (const note of created.notes) log.warn(`${dir.dir}: ${note}`);
    const t = config.training;
    // rprop has no rate to warm up
    const warmup = t.optimizer === 'rprop' ? null : warmupWarning(t.lr_schedule.warmup_steps, t.epochs, trainer.batchesPerEpoch, t.lr);
    if (warmup !== null) log.warn(warmup);
    return { config, data, model, trainer, dir, fingerprint };
  }
  const warnings = checkpoint.ck ? restoreCheckpoint(checkpoint.file, checkpoint.ck, trainer, fingerprint) : [];
  const resumed = RunDir.resume(checkpoint.dir, checkpoint.ck?.state.metrics ?? [], opts.takeOverLock === true);
  const dir = resumed.run;
  dir.writeConfig(config);
  printStartup(log, config, opts.config, model, trainer, sizes, dir.dir, true);
  const st = trainer.state();
  log.info(
    checkpoint.ck
      ? `resuming  after epoch ${st.epochsDone}${st.batchesDone > 0 ? `, batch ${st.batchesDone}/${trainer.batchesPerEpoch} of epoch ${st.epochsDone + 1}` : ''}`
      : `resuming  from the start: the run stopped before its first checkpoint`,
  );
  for (const r of resumed.repaired) log.warn(`${dir.dir}: ${r}`);
  for (const w of warnings) log.warn(w);
  if (trainer.stoppedEarly) {
    const patience = config.training.early_stopping.patience;
    log.warn(
      `${dir.dir}: the run ended by early stopping after epoch ${st.epochsDone} (no better validation accuracy than epoch ` +
        `${st.best!.epoch}'s for ${patience} epochs); it trains no further: only its summary and report are written again`,
    );
  }
  return { config, data, model, trainer, dir, fingerprint };
}

/** Train with hooks that log progress, write each epoch's metrics and weights, and checkpoint; Ctrl-C stops at the next batch. */
async function train({ config, model, trainer, dir, fingerprint }: Run, log: Log): Promise<TrainResult> {
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
      onCheckpoint: (snapshot) => dir.writeCheckpoint({ ...snapshot, config, data: fingerprint }),
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
function finalEvaluation({ config, data, model }: Run, result: TrainResult): {
  final: Evaluation; bestEval: Evaluation | null; predicted: Int32Array; bestPredicted: Int32Array | null;
} {
  const tester = new Evaluator(model, data.test, config.loss, EVAL_CHUNK, config.training.kernel);
  const predicted = new Int32Array(data.test.n);
  const final = tester.run(predicted);
  let bestEval: Evaluation | null = null;
  let bestPredicted: Int32Array | null = null;
  if (result.best) {
    const last = Float32Array.from(model.params);
    model.params.set(result.best.params);
    bestPredicted = new Int32Array(data.test.n);
    bestEval = tester.run(bestPredicted);
    model.params.set(last);
  }
  return { final, bestEval, predicted, bestPredicted };
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

/**
 * A config saved in a run folder names that folder as its output.dir: rerun
 * as it is (`--config runs/X/config.json`), it gets a new folder instead of
 * colliding with the run it came from. With --out, or --force (replace that
 * run), the folder stays as named. Returns the folder it names, or null.
 */
function savedRunFolder(config: Config, opts: TrainOptions): string | null {
  const dir = config.output.dir;
  if (dir === null || opts.config === undefined || opts.out !== undefined || opts.force === true) return null;
  return resolve(dir) === resolve(dirname(opts.config)) && RunDir.holdsRun(dir) ? dir : null;
}
