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
import { setKernelThreads } from '../kernels/matmul.js';
import { wasmRuntime } from '../kernels/wasm/runtime.js';
import { Pass, type Mlp, type TrainPass } from '../model/mlp.js';
import { WasmPass } from '../model/wasm-pass.js';
import { oneHot, type OutputBatch } from '../objective/batch.js';
import { Objective, objectiveSpec } from '../objective/objective.js';
import { Rng, STREAM_SHUFFLE, type RngState } from '../rng.js';
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

/** Running sums of the unfinished epoch (what its metrics are made of). */
export interface EpochSums {
  data: number;
  discriminative: number;
  l2: number;
  trSw: number;
  trSb: number;
  seen: number;
  correct: number;
  batches: number;
  seconds: number; // training time spent in the epoch so far
}

/**
 * Everything besides the parameters and the velocity that a resumed run needs
 * to continue as if it had never stopped. JSON-serializable.
 */
export interface TrainState {
  epochsDone: number; // finished epochs
  batchesDone: number; // finished batches of epoch epochsDone + 1 (0 at an epoch boundary)
  rng: RngState; // shuffle RNG at the start of epoch epochsDone + 1, before its shuffle
  sums: EpochSums; // of the batches done in epoch epochsDone + 1
  best: { epoch: number; val_accuracy: number } | null;
  metrics: EpochMetrics[]; // of the finished epochs
}

export interface TrainHooks {
  onEpochStart?(epoch: number, batches: number, lr: number): void;
  /** After each batch, with the running mean loss per sample of the epoch. */
  onBatch?(epoch: number, batch: number, batches: number, loss: number): void;
  onEpochEnd?(m: EpochMetrics, model: Mlp): void;
  /** A new best validation accuracy; `params` is the saved copy. */
  onBest?(epoch: number, params: Float32Array): void;
  /**
   * A consistent point to save (trainer.state(), the parameters, the velocity):
   * after onEpochEnd, every `training.checkpoint_every` batches, and when
   * shouldStop ends the run.
   */
  onCheckpoint?(state: TrainState): void;
  /** Polled after every batch: true stops the run there (Ctrl-C). */
  shouldStop?(): boolean;
}

const zeroSums = (): EpochSums => ({ data: 0, discriminative: 0, l2: 0, trSw: 0, trSb: 0, seen: 0, correct: 0, batches: 0, seconds: 0 });

export class Trainer {
  readonly cfg: Config;
  readonly model: Mlp;
  readonly optimizer: Sgd;
  /** Copy of the parameters of the best validation epoch (with a validation split). */
  readonly bestParams: Float32Array | null;
  private readonly batcher: Batcher;
  private readonly pass: TrainPass;
  /** With the WebAssembly kernels: the pass that holds the working parameters (else the model's arrays are trained). */
  private readonly wasmPass: WasmPass | null;
  private readonly jsPass: Pass | null;
  private readonly objective: Objective;
  private readonly shuffleRng: Rng;
  private readonly D: Float32Array; // one-hot targets of a batch
  private readonly validator: Evaluator | null;
  private st: TrainState;

  constructor(cfg: Config, model: Mlp, train: Dataset, validation: Dataset | null) {
    this.cfg = cfg;
    this.model = model;
    const t = cfg.training;
    const size = Batcher.rows(train, t.batch_size === 'full' ? train.n : t.batch_size);
    if (t.kernel === 'wasm') setKernelThreads(t.threads);
    const runtime = t.kernel === 'wasm' && model.Float === Float32Array ? wasmRuntime().runtime : null;
    this.wasmPass = runtime ? new WasmPass(model, size, runtime, train) : null;
    this.jsPass = this.wasmPass ? null : new Pass(model, size, t.kernel);
    this.pass = this.wasmPass ?? this.jsPass!;
    const wp = this.wasmPass;
    this.batcher = wp ? new Batcher(train, size, wp.X, (order, start, rows) => wp.loadBatch(order, start, rows)) : new Batcher(train, size);
    this.objective = new Objective(
      objectiveSpec(cfg),
      model,
      this.pass.W,
    );
    this.optimizer = new Sgd(model.params.length, t.momentum);
    this.shuffleRng = new Rng(cfg.model.seed, STREAM_SHUFFLE);
    this.D = new Float32Array(this.batcher.size * model.outputs);
    this.validator = validation && validation.n > 0 ? new Evaluator(model, validation, cfg.loss, 1000, t.kernel) : null;
    this.bestParams = this.validator ? new Float32Array(model.params.length) : null;
    this.st = { epochsDone: 0, batchesDone: 0, rng: this.shuffleRng.state(), sums: zeroSums(), best: null, metrics: [] };
  }

  get batchSize(): number {
    return this.batcher.size;
  }

  get batchesPerEpoch(): number {
    return this.batcher.count;
  }

  /** The state to save with model.params and optimizer.velocity (live objects: serialize before training on). */
  state(): TrainState {
    return this.st;
  }

  /**
   * Continue from a saved state; the caller has restored model.params,
   * optimizer.velocity and bestParams. The next run() picks up at the batch
   * after the last one done, with the same shuffle, lr and warm-up step.
   */
  restore(state: TrainState): void {
    if (state.batchesDone > this.batcher.count) {
      throw new RangeError(`saved position batch ${state.batchesDone} is beyond the ${this.batcher.count} batches of an epoch`);
    }
    this.st = structuredClone(state);
  }

  async run(hooks: TrainHooks = {}): Promise<TrainResult> {
    const { cfg, model, batcher, pass, objective, optimizer, D, st } = this;
    const t = cfg.training;
    const O = model.outputs;
    // The batch as the objective sees it: the same buffers every step, only n changes.
    const b: OutputBatch = { n: 0, O, Y: pass.Y, Z: pass.logits, D, labels: batcher.labels };
    const every = t.checkpoint_every;
    let stopped: StopReason = 'completed';
    this.wasmPass?.load(model.params, optimizer.velocity);
    // Counted across epochs: short epochs must not starve the signal handlers.
    let lastYield = performance.now();

    while (st.epochsDone < t.epochs && stopped === 'completed') {
      const e = st.epochsDone; // 0-based index of this epoch
      const epoch = e + 1;
      const lr = lrAt(t.lr, t.lr_schedule, e, t.epochs);
      // The order of an epoch depends only on the RNG state at its start, which
      // the state keeps: a run resumed mid-epoch redraws the same order.
      this.shuffleRng.setState(st.rng);
      if (t.shuffle && batcher.count > 1) batcher.shuffle(this.shuffleRng);
      hooks.onEpochStart?.(epoch, batcher.count, lr);

      const sums = st.sums;
      let start = performance.now();
      for (let k = st.batchesDone; k < batcher.count; k++) {
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
        for (let i = 0; i < n; i++) if (argmax(Y, i * O, O) === batcher.labels[i]) sums.correct++;
        objective.backward(pass, X, b);
        const lrNow = lr * warmupFactor(t.lr_schedule.warmup_steps, e * batcher.count + k);
        if (this.wasmPass) this.wasmPass.step(lrNow, n, optimizer.momentum);
        else optimizer.step(model.params, this.jsPass!.grads, lrNow, n);

        sums.data += v.data;
        sums.discriminative += v.discriminative;
        sums.l2 += v.l2;
        sums.trSw += v.trSw ?? 0;
        sums.trSb += v.trSb ?? 0;
        sums.seen += n;
        sums.batches++;
        st.batchesDone = k + 1;
        hooks.onBatch?.(epoch, k + 1, batcher.count, (sums.data + sums.discriminative + sums.l2) / sums.seen);

        const stop = hooks.shouldStop?.() === true;
        const last = k + 1 === batcher.count;
        if ((every > 0 && st.batchesDone % every === 0 && !last) || stop) {
          const now = performance.now();
          sums.seconds += (now - start) / 1000;
          start = now;
          this.sync();
          if (!stop) this.checkFinite(epoch, k + 1, lr);
          hooks.onCheckpoint?.(st);
        }
        if (stop) {
          stopped = 'interrupted';
          break;
        }
        // Let signal handlers and the progress bar's timer run now and then.
        if (performance.now() - lastYield > YIELD_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
      }
      if (stopped === 'interrupted') break;
      sums.seconds += (performance.now() - start) / 1000;
      this.sync();
      this.checkFinite(epoch, batcher.count, lr);

      const evalStart = performance.now();
      const val = this.validator?.run() ?? null;
      const evalSeconds = (performance.now() - evalStart) / 1000;

      const disc = objective.needsLabels;
      const m: EpochMetrics = {
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
        gflops: (model.trainFlopsPerSample() * sums.seen) / sums.seconds / 1e9,
      };
      st.metrics.push(m);
      st.epochsDone = epoch;
      st.batchesDone = 0;
      st.rng = this.shuffleRng.state();
      st.sums = zeroSums();

      if (val && this.bestParams) {
        if (st.best === null || val.accuracy > st.best.val_accuracy) {
          this.bestParams.set(model.params);
          st.best = { epoch, val_accuracy: val.accuracy };
          hooks.onBest?.(epoch, this.bestParams);
        } else if (t.early_stopping.patience > 0 && epoch - st.best.epoch >= t.early_stopping.patience) {
          stopped = 'early_stopping';
        }
      }
      hooks.onEpochEnd?.(m, model);
      hooks.onCheckpoint?.(st);
    }
    const best = st.best && this.bestParams ? { ...st.best, params: this.bestParams } : null;
    return { metrics: st.metrics, stopped, best };
  }

  /** model.params and optimizer.velocity <- the working copy (WebAssembly pass), before anyone reads them. */
  private sync(): void {
    this.wasmPass?.store(this.model.params, this.optimizer.velocity);
  }

  /** Weights that overflowed (a loss can stay finite while they do) end the run before anything saves them. */
  private checkFinite(epoch: number, batch: number, lr: number): void {
    const p = this.model.params;
    for (let i = 0; i < p.length; i++) {
      if (!Number.isFinite(p[i])) {
        throw new DivergenceError(
          `training diverged at epoch ${epoch}, batch ${batch}: a weight is ${p[i]} ` +
            `(the learning rate ${lr} is likely too large)`,
        );
      }
    }
  }
}
