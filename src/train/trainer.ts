// The training loop: for each epoch, for each batch,
//   forward -> objective values -> backward (dE/dparams) -> the optimizer's step
// then validation, best-weights bookkeeping, early stopping and the epoch's
// metrics. Everything is allocated before the first epoch; the same config
// and seed give bit-identical weights on any thread count (each value is
// computed by one thread in a fixed order; the shuffle is seeded).
//
// The pass (src/model/create-pass.ts) holds the working parameters; the
// canonical ones (model.params, optimizerState, PyTorch layout) are brought
// up to date at every point where something reads them: the end of an epoch
// (validation, the saved weights) and every checkpoint.
import type { Config } from '../config/schema.js';
import { Batcher } from '../data/batches.js';
import { pixelDensity, type Dataset } from '../data/mnist.js';
import { DivergenceError } from '../errors.js';
import { argmax, EVAL_CHUNK, Evaluator, type Evaluation } from '../eval/evaluate.js';
import { createTrainPass } from '../model/create-pass.js';
import { passRegularization } from '../model/dropout.js';
import type { Mlp, Vec } from '../model/mlp.js';
import { newOptimizerState, optimizerSettings, type OptimizerScalars, type OptimizerSettings, type OptimizerState } from '../model/optimizer.js';
import type { TrainPass } from '../model/pass.js';
import { oneHot, type OutputBatch } from '../objective/batch.js';
import { Objective, objectiveSpec, type TermValues } from '../objective/objective.js';
import { Rng, STREAM_SHUFFLE } from '../rng.js';
import { divergenceCause } from './divergence.js';
import { checkTrainMemory } from './memory.js';
import { lrAt, warmupFactor } from './schedule.js';
import { addBatch, zeroSums, type EpochMetrics, type TrainState } from './state.js';

const YIELD_MS = 50;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export type StopReason = 'completed' | 'early_stopping' | 'interrupted';

export interface TrainResult {
  metrics: EpochMetrics[];
  stopped: StopReason;
  best: { epoch: number; val_accuracy: number; params: Vec } | null;
}

/** What a checkpoint holds: live views of the trainer's canonical tensors and state (serialize before training on). */
export interface TrainSnapshot {
  state: TrainState;
  params: Vec;
  optimizer: { name: OptimizerSettings['name']; state: OptimizerState; scalars: OptimizerScalars };
  bestParams: Vec | null;
}

export interface TrainHooks {
  onEpochStart?(epoch: number, batches: number, lr: number): void;
  /** After each batch, with the running mean loss per sample of the epoch. */
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  /** The epoch's metrics; model.params then hold the epoch's weights. */
  onEpochEnd?(m: EpochMetrics): void;
  /** A new best validation accuracy; `params` is the saved copy. */
  onBest?(epoch: number, params: Vec): void;
  /**
   * A consistent point to save: after onEpochEnd, every
   * `training.checkpoint_every` batches, and when shouldStop ends the run.
   */
  onCheckpoint?(snapshot: TrainSnapshot): void;
  /** Polled after every batch: true stops the run there (Ctrl-C). */
  shouldStop?(): boolean;
}

export class Trainer {
  readonly cfg: Config;
  readonly model: Mlp;
  readonly optimizer: OptimizerSettings;
  /** The optimizer's state tensors in the parameter layout (canonical; the pass works on its own copy). */
  readonly optimizerState: Readonly<Record<string, Vec>>;
  /** The optimizer's state scalars: the pass's own (they have no layout, so one copy serves both). */
  readonly optimizerScalars: OptimizerScalars;
  /** Copy of the parameters of the best validation epoch (with a validation split). */
  readonly bestParams: Vec | null;
  private readonly batcher: Batcher;
  private readonly pass: TrainPass;
  private readonly objective: Objective;
  private readonly shuffleRng: Rng;
  /** The batch as the objective sees it: the same buffers every step, only n changes. */
  private readonly batch: OutputBatch;
  private readonly validator: Evaluator | null;
  private st: TrainState;
  /** When the loop last let the event loop run: counted across epochs, so short epochs do not starve the signal handlers. */
  private lastYield = 0;

  constructor(cfg: Config, model: Mlp, train: Dataset, validation: Dataset | null) {
    checkTrainMemory(cfg, train, validation); // refuse before the passes allocate
    this.cfg = cfg;
    this.model = model;
    const t = cfg.training;
    this.optimizer = optimizerSettings(cfg);
    const capacity = Batcher.rows(train, t.batch_size === 'full' ? train.n : t.batch_size);
    const inputDensity = pixelDensity(train) * (1 - cfg.regularization.dropout.input);
    this.pass = createTrainPass(model, { capacity, kernel: t.kernel, threads: t.threads, optimizer: this.optimizer, regularization: passRegularization(cfg), inputDensity });
    this.batcher = new Batcher(train, capacity, this.pass.X);
    this.objective = new Objective(objectiveSpec(cfg), model, this.pass);
    this.optimizerState = newOptimizerState(this.optimizer, model.params.length, model.Float);
    this.optimizerScalars = this.pass.scalars;
    this.shuffleRng = new Rng(cfg.model.seed, STREAM_SHUFFLE);
    const O = model.outputs;
    const D = new Float32Array(this.batcher.size * O); // one-hot targets
    this.batch = { n: 0, O, Y: this.pass.Y, Z: this.pass.logits, D, labels: this.batcher.labels };
    this.validator = validation && validation.n > 0 ? new Evaluator(model, validation, cfg.loss, EVAL_CHUNK, t.kernel) : null;
    this.bestParams = this.validator ? new model.Float(model.params.length) : null;
    this.st = { epochsDone: 0, batchesDone: 0, rng: this.shuffleRng.state(), sums: zeroSums(), best: null, metrics: [] };
  }

  get batchSize(): number {
    return this.batcher.size;
  }

  get batchesPerEpoch(): number {
    return this.batcher.count;
  }

  /** Position, running sums, best epoch and metrics (live: serialize before training on). */
  state(): TrainState {
    return this.st;
  }

  snapshot(): TrainSnapshot {
    const optimizer = { name: this.optimizer.name, state: this.optimizerState, scalars: this.optimizerScalars };
    return { state: this.st, params: this.model.params, optimizer, bestParams: this.bestParams };
  }

  /**
   * Continue from a saved state; the caller has restored model.params,
   * optimizerState, optimizerScalars and bestParams. The next run() picks up at the batch
   * after the last one done, with the same shuffle, lr and warm-up step.
   */
  restore(state: TrainState): void {
    if (state.batchesDone > this.batcher.count) {
      throw new RangeError(`saved position batch ${state.batchesDone} is beyond the ${this.batcher.count} batches of an epoch`);
    }
    this.st = structuredClone(state);
  }

  /**
   * Whether the state is that of a run early stopping ended (its patience ran
   * out at the last finished epoch): run() then trains no further.
   */
  get stoppedEarly(): boolean {
    const { st } = this;
    const patience = this.cfg.training.early_stopping.patience;
    return patience > 0 && st.batchesDone === 0 && st.best !== null && st.epochsDone - st.best.epoch >= patience;
  }

  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const { st } = this;
    const epochs = this.cfg.training.epochs;
    let stopped: StopReason = this.stoppedEarly ? 'early_stopping' : 'completed';
    this.pass.load(this.model.params, this.optimizerState);
    this.lastYield = performance.now();
    while (st.epochsDone < epochs && stopped === 'completed') {
      const e = st.epochsDone; // 0-based index of this epoch
      const lr = lrAt(this.cfg.training.lr, this.cfg.training.lr_schedule, e, epochs);
      // The order of an epoch depends only on the RNG state at its start, which
      // the state keeps: a run resumed mid-epoch redraws the same order.
      this.shuffleRng.setState(st.rng);
      if (this.cfg.training.shuffle && this.batcher.count > 1) this.batcher.shuffle(this.shuffleRng);
      hooks.onEpochStart?.(e + 1, this.batcher.count, lr);
      if (!(await this.trainEpoch(e, lr, hooks))) {
        stopped = 'interrupted';
        break;
      }
      this.checkFinite(e + 1, this.batcher.count, lr, this.stepLr(e, this.batcher.count - 1, lr));
      const evalStart = performance.now();
      const val = this.validator?.run() ?? null;
      const m = this.epochMetrics(e + 1, this.stepLr(e, this.batcher.count - 1, lr), val, (performance.now() - evalStart) / 1000);
      st.metrics.push(m);
      st.epochsDone = e + 1;
      st.batchesDone = 0;
      st.rng = this.shuffleRng.state();
      st.sums = zeroSums();
      if (this.trackBest(e + 1, val, hooks)) stopped = 'early_stopping';
      hooks.onEpochEnd?.(m);
      hooks.onCheckpoint?.(this.snapshot());
    }
    const best = st.best && this.bestParams ? { ...st.best, params: this.bestParams } : null;
    return { metrics: st.metrics, stopped, best };
  }

  /**
   * The batches of epoch e from the position the state holds; false if
   * shouldStop ended it. The canonical tensors are synced at the end and at
   * every checkpoint.
   */
  private async trainEpoch(e: number, lr: number, hooks: TrainHooks): Promise<boolean> {
    const { st, batcher } = this;
    const every = this.cfg.training.checkpoint_every;
    const sums = st.sums;
    let start = performance.now();
    for (let k = st.batchesDone; k < batcher.count; k++) {
      const v = this.trainBatch(e, k, lr);
      addBatch(sums, v, this.batch.n);
      st.batchesDone = k + 1;
      hooks.onBatch?.(e + 1, k + 1, batcher.count, (sums.data + sums.discriminative + sums.l2) / sums.seen);
      const stop = hooks.shouldStop?.() === true;
      if ((every > 0 && st.batchesDone % every === 0 && k + 1 < batcher.count) || stop) {
        const now = performance.now();
        sums.seconds += (now - start) / 1000;
        start = now;
        this.sync();
        if (!stop) this.checkFinite(e + 1, k + 1, lr, this.stepLr(e, k, lr));
        hooks.onCheckpoint?.(this.snapshot());
      }
      if (stop) return false;
      // Let signal handlers and the progress bar's timer run now and then.
      if (performance.now() - this.lastYield > YIELD_MS) {
        await yieldToEventLoop();
        this.lastYield = performance.now();
      }
    }
    sums.seconds += (performance.now() - start) / 1000;
    this.sync();
    return true;
  }

  /** Batch k of epoch e: forward, the objective's values, backward, the step. Returns the values. */
  private trainBatch(e: number, k: number, lr: number): TermValues {
    const { pass, batcher, batch: b } = this;
    const n = batcher.load(k);
    // t counts the steps of the run from 1, from the position alone: a resumed run counts on (adam's t, dropout's masks)
    const t = e * batcher.count + k + 1;
    pass.useMasks(t);
    const Y = pass.forward(n);
    oneHot(b.D, batcher.labels, n, b.O);
    b.n = n;
    const v = this.objective.values(b);
    const rate = this.stepLr(e, k, lr);
    if (!Number.isFinite(v.total)) {
      throw new DivergenceError(`training diverged at epoch ${e + 1}, batch ${k + 1}: the loss is ${v.total} (${divergenceCause(this.cfg.regularization, lr, rate, n)})`);
    }
    for (let i = 0; i < n; i++) if (argmax(Y, i * b.O, b.O) === batcher.labels[i]) this.st.sums.correct++;
    this.objective.backward(pass, b);
    pass.step({ lr: rate, d: n, t, loss: v.total });
    return v;
  }

  /** The rate of step k of epoch e: the epoch's rate `lr` times the warm-up factor of that step. */
  private stepLr(e: number, k: number, lr: number): number {
    return lr * warmupFactor(this.cfg.training.lr_schedule.warmup_steps, e * this.batcher.count + k);
  }

  /** The finished epoch's metrics row, from its sums. */
  private epochMetrics(epoch: number, lr: number, val: Evaluation | null, evalSeconds: number): EpochMetrics {
    const sums = this.st.sums;
    const disc = this.objective.needsLabels;
    return {
      epoch,
      lr,
      loss: (sums.data + sums.discriminative + sums.l2) / sums.seen,
      loss_data: sums.data / sums.seen,
      loss_discriminative: sums.discriminative / sums.seen,
      loss_l2: sums.l2 / sums.seen,
      tr_sw: disc ? sums.trSw / sums.batches : null,
      tr_sb: disc ? sums.trSb / sums.batches : null,
      train_accuracy: sums.correct / sums.seen,
      val_loss: val ? val.loss : null,
      val_accuracy: val ? val.accuracy : null,
      seconds: sums.seconds,
      eval_seconds: evalSeconds,
      gflops: (this.model.trainFlopsPerSample() * sums.seen) / sums.seconds / 1e9,
    };
  }

  /** Keep the best validation epoch's weights; true when early stopping's patience has run out. */
  private trackBest(epoch: number, val: Evaluation | null, hooks: TrainHooks): boolean {
    const { st } = this;
    if (!val || !this.bestParams) return false;
    if (st.best === null || val.accuracy > st.best.val_accuracy) {
      this.bestParams.set(this.model.params);
      st.best = { epoch, val_accuracy: val.accuracy };
      hooks.onBest?.(epoch, this.bestParams);
      return false;
    }
    const patience = this.cfg.training.early_stopping.patience;
    return patience > 0 && epoch - st.best.epoch >= patience;
  }

  /** model.params and optimizerState <- the pass's working copy, before anyone reads them. */
  private sync(): void {
    this.pass.store(this.model.params, this.optimizerState);
  }

  /** Weights that overflowed (a loss can stay finite while they do) end the run before anything saves them; `rate` is the last step's. */
  private checkFinite(epoch: number, batch: number, lr: number, rate: number): void {
    const p = this.model.params;
    for (let i = 0; i < p.length; i++) {
      if (!Number.isFinite(p[i])) {
        throw new DivergenceError(`training diverged at epoch ${epoch}, batch ${batch}: a weight is ${p[i]} (${divergenceCause(this.cfg.regularization, lr, rate, this.batcher.size)})`);
      }
    }
  }
}
