// mlp-train: config -> data -> model -> trainer -> run folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { configTable } from '../config/describe.js';
import { configDiff, loadConfig, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { loadRunData } from '../data/load.js';
import { Evaluator, type Evaluation } from '../eval/evaluate.js';
import { ConfigError, UserError } from '../errors.js';
import { selectKernels } from '../kernels/matmul.js';
import { Mlp } from '../model/mlp.js';
import { loadCheckpoint, restoreCheckpoint, type Checkpoint } from '../output/checkpoint.js';
import { CHECKPOINT_FILE, RunDir } from '../output/run-dir.js';
import { terminalChart } from '../report/terminal.js';
import { Trainer, type EpochMetrics } from '../train/trainer.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { writeReportSafely } from './report.js';
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

/** Keys a resumed run may change: how long it runs and where its files go; anything else would make it another run. */
const RESUMABLE_CHANGES = /^(training\.epochs|output\..*)$/;

export async function trainMain(argv: string[]): Promise<number> {
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
  const opts = program.opts<TrainOptions>();
  if (opts.helpConfig) {
    process.stdout.write(`${configTable()}\n`);
    return EXIT_OK;
  }
  if (opts.resume !== undefined && opts.out !== undefined) throw new UserError('--resume continues in its own folder: drop --out');

  const checkpoint = opts.resume !== undefined ? openCheckpoint(opts.resume) : null;
  const config = checkpoint ? resumeConfig(checkpoint, opts) : loadConfig(opts.config, opts.set);
  if (opts.out !== undefined) config.output.dir = opts.out;
  if (opts.printConfig) {
    process.stdout.write(opts.json ? `${JSON.stringify(config, null, 2)}\n` : toYaml(config));
    return EXIT_OK;
  }
  const source = checkpoint?.file ?? opts.config ?? 'config';
  const log = new Log({ quiet: opts.quiet });
  const { c } = log;
  const t0 = performance.now();

  const data = loadRunData(config, source, { train: true, test: true });
  const train = data.train!;
  const test = data.test!;
  const model = new Mlp(config.model);
  model.init(config.model.init, config.model.seed, config.model.output_bias);
  const trainer = new Trainer(config, model, train, data.validation);
  let run: RunDir;
  if (checkpoint) {
    if (checkpoint.ck) restoreCheckpoint(checkpoint.file, checkpoint.ck, trainer);
    const resumed = RunDir.resume(checkpoint.dir, checkpoint.ck?.state.metrics ?? []);
    run = resumed.run;
    run.writeConfig(config);
    printStartup(log, config, opts.config, model, trainer, { train: train.n, validation: data.validation?.n ?? 0, test: test.n }, run.dir);
    const st = trainer.state();
    log.info(
      checkpoint.ck
        ? `resuming  after epoch ${st.epochsDone}${st.batchesDone > 0 ? `, batch ${st.batchesDone}/${trainer.batchesPerEpoch} of epoch ${st.epochsDone + 1}` : ''}`
        : `resuming  from the start: the run stopped before its first checkpoint`,
    );
    for (const r of resumed.repaired) log.warn(`${run.dir}: ${r}`);
  } else {
    run = RunDir.create(config.output.dir ?? defaultRunDir(), opts.force === true);
    config.output.dir = run.dir;
    run.writeConfig(config);
    printStartup(log, config, opts.config, model, trainer, { train: train.n, validation: data.validation?.n ?? 0, test: test.n }, run.dir);
  }

  const interrupt = new Interrupt();
  const epochs = config.training.epochs;
  const width = String(epochs).length;
  let result;
  try {
    result = await trainer.run({
      onEpochStart: (epoch, batches) => log.startProgress(`epoch ${String(epoch).padStart(width)}/${epochs}`, batches),
      onBatch: (_epoch, batch, _batches, loss) => log.progress(batch, loss),
      onBest: (_epoch, params) => {
        if (config.output.save_best) run.writeWeights('best.safetensors', model, config, params);
      },
      onEpochEnd: (m) => {
        log.stopProgress();
        run.addEpoch(m);
        run.writeWeights('model.safetensors', model, config);
        log.info(epochLine(m, epochs, width, log));
      },
      onCheckpoint: () => run.writeCheckpoint(trainer, config),
      shouldStop: () => interrupt.requested !== null,
    });
  } finally {
    log.stopProgress();
    interrupt.dispose();
  }

  if (result.stopped === 'interrupted') {
    const st = trainer.state();
    log.warn(
      `interrupted at epoch ${st.epochsDone + 1}, batch ${st.batchesDone}/${trainer.batchesPerEpoch}; ` +
        `checkpoint saved in ${run.path(CHECKPOINT_FILE)}` +
        (st.epochsDone > 0 ? `, ${run.path('model.safetensors')} holds the weights after epoch ${st.epochsDone}` : ''),
    );
    log.warn(`resume with: mlp-train --resume ${run.dir}`);
    return EXIT_INTERRUPTED;
  }
  if (result.stopped === 'early_stopping') {
    log.info(`early stopping: no better validation accuracy for ${config.training.early_stopping.patience} epochs`);
  }

  // Final figures on the test set: the last weights, and the best-validation weights when there are some.
  const tester = new Evaluator(model, test, config.loss, 1000, config.training.kernel);
  const predicted = new Uint8Array(test.n);
  const final = tester.run(predicted);
  let bestEval: Evaluation | null = null;
  if (result.best) {
    const last = Float32Array.from(model.params);
    model.params.set(result.best.params);
    bestEval = tester.run();
    model.params.set(last);
  }
  const trainSeconds = result.metrics.reduce((s, m) => s + m.seconds, 0);
  const summary = {
    test_accuracy: final.accuracy,
    test_loss: final.loss,
    test_samples: final.n,
    best: result.best
      ? { epoch: result.best.epoch, val_accuracy: result.best.val_accuracy, test_accuracy: bestEval!.accuracy, test_loss: bestEval!.loss }
      : null,
    epochs: result.metrics.length,
    stopped: result.stopped,
    final_train_loss: result.metrics.at(-1)?.loss ?? null,
    final_train_accuracy: result.metrics.at(-1)?.train_accuracy ?? null,
    train_seconds: trainSeconds,
    total_seconds: (performance.now() - t0) / 1000,
    gflops: (model.trainFlopsPerSample() * train.n * result.metrics.length) / trainSeconds / 1e9,
    layers: config.model.layers,
    parameters: model.params.length,
    samples: { train: train.n, validation: data.validation?.n ?? 0, test: test.n },
  };
  run.writeJson('summary.json', summary);
  // After the weights and summary are on disk: a report that fails costs only itself.
  await writeReportSafely(log, run.dir, {
    title: `mlp-mnist run ${run.dir}`,
    training: { config, metrics: result.metrics, summary },
    evaluation: { weights: 'model.safetensors (the last epoch)', model, ds: test, evaluation: final, predicted },
  }, opts.debug === true);

  const bestNote = bestEval ? `  (best val epoch ${result.best!.epoch}: test ${pct(bestEval.accuracy)})` : '';
  log.info(
    `${c.bold('test accuracy')} ${c.green(pct(final.accuracy))}  loss ${final.loss.toFixed(4)}${bestNote}  ` +
      `in ${summary.total_seconds.toFixed(1)} s; run folder ${run.dir}`,
  );
  if (log.tty && result.metrics.length > 1) log.info(terminalChart(result.metrics)); // not into pipes or log files, nor with --quiet
  if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return EXIT_OK;
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

interface OpenCheckpoint {
  dir: string;
  file: string; // the checkpoint, or config.json for a run stopped before its first checkpoint
  storedConfig: unknown;
  ck: Checkpoint | null;
}

/**
 * What a run folder holds to resume from: its checkpoint or, if it was killed
 * before the first one was written, its config.json (the run starts over).
 */
function openCheckpoint(dir: string): OpenCheckpoint {
  const file = join(dir, CHECKPOINT_FILE);
  if (existsSync(file)) {
    const ck = loadCheckpoint(file);
    return { dir, file, storedConfig: ck.config, ck };
  }
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) throw new UserError(`${dir}: no ${CHECKPOINT_FILE} or config.json to resume from`);
  let storedConfig: unknown;
  try {
    storedConfig = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(configFile, '', `cannot read the run's config: ${(err as Error).message}`);
  }
  return { dir, file: configFile, storedConfig, ck: null };
}

/**
 * The config of a resumed run: the checkpoint's, with --config/--set applied
 * on top; refused if anything but training.epochs or output.* changed.
 */
function resumeConfig({ dir, file, storedConfig, ck }: OpenCheckpoint, opts: TrainOptions): Config {
  const stored = parseConfig(storedConfig, `${file} (stored config)`);
  const config = opts.config !== undefined ? loadConfig(opts.config, opts.set) : loadConfig(undefined, opts.set, stored);
  config.output.dir = dir;
  const changed = configDiff(config, stored).filter((d) => !RESUMABLE_CHANGES.test(d.key));
  if (changed.length > 0) {
    const list = changed.map((d) => `${d.key} ${JSON.stringify(d.default)} -> ${JSON.stringify(d.value)}`).join(', ');
    throw new ConfigError(opts.config ?? '--set', '', `cannot resume ${dir} with a changed config: ${list} (only training.epochs and output.* may change)`);
  }
  if (ck && ck.state.epochsDone > config.training.epochs) {
    throw new ConfigError(opts.config ?? '--set', 'training.epochs', `${config.training.epochs} is fewer than the ${ck.state.epochsDone} epochs ${dir} has done`);
  }
  return config;
}
