// What a run is made of besides its tensors, defined once: the metrics row of
// an epoch (metrics.jsonl, metrics.csv, the checkpoint, the report) and the
// position and running sums a resumed run needs. The zod schemas validate a
// checkpoint's metadata; the types are inferred from them.
import { z } from 'zod';
import type { TermValues } from '../objective/objective.js';

const u32 = z.number().int().min(0).max(0xffffffff);
const count = z.number().int().nonnegative();
const real = z.number();
const maybeReal = z.number().nullable();

/** One epoch's figures; the key order is metrics.csv's column order. */
export const EpochMetricsSchema = z.strictObject({
  epoch: z.number().int().positive(), // 1-based
  lr: real, // the rate of the epoch's last step, as used: the schedule's rate times the warm-up factor
  // Means per training sample over the epoch (batch sums / samples), by term:
  loss: real,
  loss_data: real,
  loss_discriminative: real,
  loss_l2: real,
  tr_sw: maybeReal, // mean per batch of tr S_w, tr S_b of the outputs (discriminative runs only)
  tr_sb: maybeReal,
  train_accuracy: real, // of the batches as they were trained (the weights moved during the epoch)
  val_loss: maybeReal,
  val_accuracy: maybeReal,
  seconds: real, // training time of the epoch, without validation
  eval_seconds: real,
  gflops: real, // matrix-product FLOPs of the epoch / seconds / 1e9
});
export type EpochMetrics = z.infer<typeof EpochMetricsSchema>;

/** metrics.csv's columns. */
export const METRICS_COLUMNS = Object.keys(EpochMetricsSchema.shape) as ReadonlyArray<keyof EpochMetrics>;

/** Running sums of the unfinished epoch (what its metrics are made of). */
export const EpochSumsSchema = z.strictObject({
  data: real,
  discriminative: real,
  l2: real,
  trSw: real,
  trSb: real,
  seen: count,
  correct: count,
  batches: count,
  seconds: real, // training time spent in the epoch so far
});
export type EpochSums = z.infer<typeof EpochSumsSchema>;

export const zeroSums = (): EpochSums => ({ data: 0, discriminative: 0, l2: 0, trSw: 0, trSb: 0, seen: 0, correct: 0, batches: 0, seconds: 0 });

/** A batch of n rows into the epoch's sums. */
export function addBatch(sums: EpochSums, v: TermValues, n: number): void {
  sums.data += v.data;
  sums.discriminative += v.discriminative;
  sums.l2 += v.l2;
  sums.trSw += v.trSw ?? 0;
  sums.trSb += v.trSb ?? 0;
  sums.seen += n;
  sums.batches++;
}

/**
 * Everything besides the tensors (parameters, optimizer state, best copy)
 * that a resumed run needs to continue as if it had never stopped.
 */
export const TrainStateSchema = z.strictObject({
  epochsDone: count, // finished epochs
  batchesDone: count, // finished batches of epoch epochsDone + 1 (0 at an epoch boundary)
  rng: z.tuple([u32, u32, u32, u32]), // shuffle RNG at the start of epoch epochsDone + 1, before its shuffle
  sums: EpochSumsSchema, // of the batches done in epoch epochsDone + 1
  best: z.strictObject({ epoch: z.number().int().positive(), val_accuracy: real }).nullable(),
  metrics: z.array(EpochMetricsSchema), // of the finished epochs
});
export type TrainState = z.infer<typeof TrainStateSchema>;
