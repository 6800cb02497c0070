// mlp-train's log lines: the start-up summary (network, objective, data,
// training, config differences from the defaults, run folder) and the
// fixed-format line of each epoch.
import { configDiff } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { storage } from '../data/presets.js';
import { selectKernels } from '../kernels/matmul.js';
import type { Mlp } from '../model/mlp.js';
import { describeOptimizer } from '../model/optimizer.js';
import type { EpochMetrics } from '../train/state.js';
import type { Trainer } from '../train/trainer.js';
import { type Log, pct } from './log.js';

/** The fixed-format line of a finished epoch. */
export function epochLine(m: EpochMetrics, epochs: number, width: number, log: Log): string {
  const val = m.val_accuracy === null ? '' : `  val ${log.c.green(pct(m.val_accuracy))}`;
  return (
    `epoch ${String(m.epoch).padStart(width)}/${epochs}  loss ${m.loss.toFixed(4)}  acc ${pct(m.train_accuracy)}${val}` +
    `  ${m.seconds.toFixed(2)} s  ${m.gflops.toFixed(1)} GFLOP/s`
  );
}

/** The start-up summary, after a warning if the kernels asked for are not available. */
export function printStartup(
  log: Log,
  config: Config,
  file: string | undefined,
  model: Mlp,
  trainer: Trainer,
  n: { train: number; validation: number; test: number },
  dir: string,
  ownFolder: boolean, // the folder is not the user's setting (named by the run, or --resume's): not a difference from the defaults
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
  const { dropout, max_norm } = config.regularization; // not terms of E: the masks and the constraint act on the network
  const extras = [
    ...(dropout.input > 0 || dropout.hidden > 0 ? [`dropout ${dropout.input} input, ${dropout.hidden} hidden`] : []),
    ...(max_norm > 0 ? [`max-norm ${max_norm}`] : []),
  ];
  const diff = configDiff(config)
    .filter((d) => !(ownFolder && d.key === 'output.dir'))
    .map((d) => `${d.key}=${JSON.stringify(d.value)}`);
  const fallback = selectKernels(t.kernel).fallback;
  if (fallback) log.warn(fallback);
  log.info(
    [
      `${c.bold('mlp-mnist')} ${m.layers.join('-')} (${model.hiddenText()}, ${m.output} output), ` +
        `${model.params.length.toLocaleString('en-US')} parameters, init ${m.init}, seed ${m.seed}`,
      `objective  ${[terms.join(' + '), ...extras].join('; ')}`,
      `data       train ${n.train}, validation ${n.validation}, test ${n.test}` +
        dataSource(config.data),
      `training   ${t.epochs} epochs, batch ${trainer.batchSize} (${trainer.batchesPerEpoch} steps/epoch), ` +
        `${updateText(trainer, `lr ${t.lr}${schedText}${warmText}`)}, ${selectKernels(t.kernel).name} kernels`,
      `config     ${file ?? '(defaults)'}; differs from defaults: ${diff.length ? diff.join(' ') : 'nothing'}`,
      `run folder ${dir}`,
    ].join('\n'),
  );
}

/** The update in words: sgd's rate and momentum as always; another optimizer's name and settings (rprop has no rate). */
function updateText(trainer: Trainer, rate: string): string {
  const o = trainer.optimizer;
  if (o.name === 'sgd') return `${rate}, momentum ${o.momentum}`;
  return o.name === 'rprop' ? describeOptimizer(o) : `${describeOptimizer(o)}, ${rate}`;
}

/** Where the samples come from, as the start-up summary says it. */
function dataSource(d: Config['data']): string {
  const explicit = d.train.images !== null || d.train.labels !== null || d.test.images !== null || d.test.labels !== null;
  const { transpose, labelOffset } = storage(d);
  const how = `${transpose ? ', transposed' : ''}${labelOffset ? `, labels - ${labelOffset}` : ''}`;
  if (explicit) return ` (${d.preset} settings${how})`;
  if (d.dir !== null) return ` (${d.preset} settings, from ${d.dir}${how})`;
  return d.preset === 'mnist' ? ' (bundled MNIST, checksums verified)' : ` (${d.preset}${how})`;
}
