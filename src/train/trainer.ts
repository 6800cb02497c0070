// The training loop: for each epoch, for each batch,
//   forward -> objective values -> backward (dE/dparams) -> W -= lr (1/d) dE/dW
// then validation, early stopping and the epoch's metrics. Everything is
// allocated before the first epoch; the same config and seed give
// bit-identical weights (one thread, fixed summation order, seeded shuffle).
import type { Config } from '../config/schema.js';
import { Batcher } from '../data/batches.js';
import type { Dataset } from '../data/mnist.js';
import { DivergenceError } from '../errors.js';
import { argmax, Evaluator } from '../eval/evaluate.js';
import { Pass, type Mlp } from '../model/mlp.js';
import { oneHot, type OutputBatch } from '../objective/batch.js';
import { Objective } from '../objective/objective.js';
import { Rng, STREAM_SHUFFLE } from '../rng.js';
import { lrAt, Sgd, warmupFactor } from './optimizer.js';

const YIELD_MS = 50;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface EpochMetrics {
  epoch: number; // 1-based
  lr: number;
  // Means per training sample over the epoch (batch sums / samples), by term:
  loss: number;
  loss_data: number;
  loss_discriminative: number;
  loss_l2: number;
  tr_sw: number | null; // mean per batch of tr S_w, tr S_b of the outputs (discriminative runs only)
  tr_sb: number | null;
  train_accuracy: number; // of the batches as they were trained (the weights moved during the epoch)
  val_loss: number | null;
  val_accuracy: number | null;
  seconds: number; // training time of the epoch, without validation
  eval_seconds: number;
  gflops: number; // matrix-product FLOPs of the epoch / seconds / 1e9
}

export type StopReason = 'completed' | 'early_stopping' | 'interrupted';

export interface TrainResult {
  metrics: EpochMetrics[];
  stopped: StopReason;
  best: { epoch: number; val_accuracy: number; params: Float32Array } | null;
}

export interface TrainHooks {
  onEpochStart?(epoch: number, batches: number, lr: number): void;
  /** After each batch, with the running mean loss per sample of the epoch. */
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpochEnd?(m: EpochMetrics, model: Mlp): void;
  /** A new best validation accuracy; `params` is the saved copy. */
  onBest?(epoch: number, params: Float32Array): void;
  /** Polled after every batch: true stops the run there (Ctrl-C). */
  shouldStop?(): boolean;
}

export class Trainer {
  readonly cfg: Config;
  readonly model: Mlp;
  private readonly batcher: Batcher;
  private readonly pass: Pass;
  private readonly objective: Objective;
  private readonly optimizer: Sgd;
  private readonly shuffleRng: Rng;
  private readonly D: Float32Array; // one-hot targets of a batch
  private readonly validator: Evaluator | null;
  private readonly train: Dataset;

  constructor(cfg: Config, model: Mlp, train: Dataset, validation: Dataset | null) {
    this.cfg = cfg;
    this.model = model;
    this.train = train;
    const t = cfg.training;
    const size = t.batch_size === 'full' ? train.n : t.batch_size;
    this.batcher = new Batcher(train, size);
    this.pass = new Pass(model, this.batcher.size, t.kernel);
    this.objective = new Objective(
      { loss: cfg.loss, gamma: cfg.regularization.discriminative, lambda: cfg.regularization.l2 },
      model,
    );
    this.optimizer = new Sgd(model.params.length, t.momentum);
    this.shuffleRng = new Rng(cfg.model.seed, STREAM_SHUFFLE);
    this.D = new Float32Array(this.batcher.size * model.outputs);
    this.validator = validation && validation.n > 0 ? new Evaluator(model, validation, cfg.loss, 1000, t.kernel) : null;
  }

  get batchSize(): number {
    return this.batcher.size;
  }

  get batchesPerEpoch(): number {
    return this.batcher.count;
  }

  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const { cfg, model, batcher, pass, objective, optimizer, D } = this;
    const t = cfg.training;
    const O = model.outputs;
    const metrics: EpochMetrics[] = [];
    // The batch as the objective sees it: the same buffers every step, only n changes.
    const b: OutputBatch = { n: 0, O, Y: pass.Y, Z: pass.logits, D, labels: batcher.labels };
    const bestParams = this.validator ? new Float32Array(model.params.length) : null;
    let best: TrainResult['best'] = null;
    let stopped: StopReason = 'completed';

    for (let e = 0; e < t.epochs && stopped === 'completed'; e++) {
      const epoch = e + 1;
      const lr = lrAt(t.lr, t.lr_schedule, e, t.epochs);
      if (t.shuffle && batcher.count > 1) batcher.shuffle(this.shuffleRng);
      hooks.onEpochStart?.(epoch, batcher.count, lr);

      const start = performance.now();
      let lastYield = start;
      let sumData = 0;
      let sumDisc = 0;
      let sumL2 = 0;
      let sumSw = 0;
      let sumSb = 0;
      let seen = 0;
      let correct = 0;
      let batches = 0;
      for (let k = 0; k < batcher.count; k++) {
        const n = batcher.load(k);
        const X = batcher.X;
        const Y = pass.forward(X, n);
        oneHot(D, batcher.labels, n, O);
        b.n = n;
        const v = objective.values(b);
        if (!Number.isFinite(v.total)) {
          throw new DivergenceError(
            `training diverged at epoch ${epoch}, batch ${k + 1}: the loss is ${v.total} ` +
              `(the learning rate ${lr} is likely too large)`,
          );
        }
        for (let i = 0; i < n; i++) if (argmax(Y, i * O, O) === batcher.labels[i]) correct++;
        objective.backward(pass, X, b);
        optimizer.step(model.params, pass.grads, lr * warmupFactor(t.lr_schedule.warmup_steps, e * batcher.count + k), n);

        sumData += v.data;
        sumDisc += v.discriminative;
        sumL2 += v.l2;
        sumSw += v.trSw ?? 0;
        sumSb += v.trSb ?? 0;
        seen += n;
        batches++;
        hooks.onBatch?.(epoch, k + 1, batcher.count, (sumData + sumDisc + sumL2) / seen);
        // Let signal handlers and the progress bar's timer run now and then.
        if (performance.now() - lastYield > YIELD_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        if (hooks.shouldStop?.()) {
          stopped = 'interrupted';
          break;
        }
      }
      if (stopped === 'interrupted') break;
      const seconds = (performance.now() - start) / 1000;

      const evalStart = performance.now();
      const val = this.validator?.run() ?? null;
      const evalSeconds = (performance.now() - evalStart) / 1000;

      const disc = objective.needsLabels;
      const m: EpochMetrics = {
        epoch,
        lr,
        loss: (sumData + sumDisc + sumL2) / seen,
        loss_data: sumData / seen,
        loss_discriminative: sumDisc / seen,
        loss_l2: sumL2 / seen,
        tr_sw: disc ? sumSw / batches : null,
        tr_sb: disc ? sumSb / batches : null,
        train_accuracy: correct / seen,
        val_loss: val ? val.loss : null,
        val_accuracy: val ? val.accuracy : null,
        seconds,
        eval_seconds: evalSeconds,
        gflops: (model.trainFlopsPerSample() * seen) / seconds / 1e9,
      };
      metrics.push(m);

      if (val && bestParams) {
        if (best === null || val.accuracy > best.val_accuracy) {
          bestParams.set(model.params);
          best = { epoch, val_accuracy: val.accuracy, params: bestParams };
          hooks.onBest?.(epoch, bestParams);
        } else if (t.early_stopping.patience > 0 && epoch - best.epoch >= t.early_stopping.patience) {
          stopped = 'early_stopping';
        }
      }
      hooks.onEpochEnd?.(m, model);
    }
    return { metrics, stopped, best };
  }
}
