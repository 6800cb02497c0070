// One point of a sweep, one seed of a reproduction row, one job of the queue:
// a resolved config and the run folder it trains into. Where a point stands
// is read from its folder alone, so that a second invocation, or another
// worker, picks up where the first left off:
//
//   finished  summary.json of a completed run of this config     -> skipped
//   resume    config.json (and perhaps a checkpoint) of this config -> mlp-train --resume
//   fresh     no run yet (or only an empty folder)                -> mlp-train --config
//
// "This config" ignores training.threads (results are bit-identical for any
// count), output.* (where files go) and training.epochs for a resume (a run
// may be taken further). A folder holding another config is refused.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDiff } from '../config/diff.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { OutputError, UserError } from '../errors.js';
import { describe } from '../output/atomic.js';
import { CHECKPOINT_FILE } from '../output/run-files.js';

export interface RunPoint {
  name: string; // for logs and tables: "lr-0.5_seed-1", "pi-record/seed-3"
  dir: string; // the run folder, absolute
  config: Config; // resolved and validated
  settings: Record<string, string>; // the keys this point sets, as given (grid values, seeds)
}

export type PointState = 'finished' | 'resume' | 'fresh';

/** What the run summary (summary.json) tells a table. */
export interface PointSummary {
  test_accuracy: number;
  test_loss: number;
  best: { epoch: number; val_accuracy: number; test_accuracy: number } | null;
  epochs: number;
  stopped: string;
  train_seconds: number;
  total_seconds: number;
  samples: { train: number; validation: number; test: number };
}

/** Keys in which a run folder may differ from its point and still be that point's run. */
const SAME_RUN = /^(training\.threads|output\..*)$/;

export function pointState(point: RunPoint): PointState {
  const configFile = join(point.dir, 'config.json');
  if (!existsSync(configFile)) return 'fresh';
  const stored = parseConfig(readJson(configFile), configFile);
  const differ = configDiff(stored, point.config).filter((d) => !SAME_RUN.test(d.key));
  const other = differ.filter((d) => d.key !== 'training.epochs');
  if (other.length > 0) {
    const list = other.slice(0, 3).map((d) => `${d.key} ${JSON.stringify(d.value)} (wanted ${JSON.stringify(d.default)})`).join(', ');
    throw new UserError(`${point.dir}: holds another run than ${point.name}: ${list}; use another --out, or --force to start it over`);
  }
  if (differ.length > 0) return 'resume'; // more epochs asked for than the folder's run has
  const summary = join(point.dir, 'summary.json');
  return existsSync(summary) && existsSync(join(point.dir, 'model.safetensors')) ? 'finished' : 'resume';
}

/** summary.json of a finished run. */
export function readSummary(dir: string): PointSummary {
  return readJson(join(dir, 'summary.json')) as PointSummary;
}

/** Whether a stopped run left a checkpoint (for logs). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, CHECKPOINT_FILE));
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OutputError(file, `cannot read: ${describe(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OutputError(file, `not JSON: ${(err as Error).message}`);
  }
}
