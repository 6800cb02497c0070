// The run folder: everything a run leaves behind, each file written atomically
// (temp file + rename), so a crash never leaves a half-written file.
//
//   config.json        the resolved config (repeat the run with --config config.json)
//   metrics.jsonl      one JSON object per epoch
//   metrics.csv        the same, as a table
//   model.safetensors  the weights after the last finished epoch
//   best.safetensors   the weights of the best validation epoch (with a validation split)
//   summary.json       final figures: test accuracy and loss, times, GFLOP/s
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Mlp } from '../model/mlp.js';
import type { EpochMetrics } from '../train/trainer.js';
import { writeFileAtomic } from './atomic.js';
import { saveWeights } from './weights.js';

export class RunDir {
  readonly dir: string;
  private readonly rows: EpochMetrics[] = [];

  /** Create the folder; refuse one that already holds a run. */
  constructor(dir: string) {
    this.dir = dir;
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
      if (readdirSync(dir).some((f) => f === 'config.json' || f.endsWith('.safetensors'))) {
        throw new UserError(`${dir}: already holds a run; choose another folder with --out`);
      }
    }
    mkdirSync(dir, { recursive: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(this.path(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeConfig(config: Config): void {
    this.writeJson('config.json', config);
  }

  /** Add an epoch and rewrite both metrics files whole (atomically: a reader never sees half a line). */
  addEpoch(m: EpochMetrics): void {
    this.rows.push(m);
    writeFileAtomic(this.path('metrics.jsonl'), this.rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const cols = Object.keys(m) as Array<keyof EpochMetrics>;
    const csv = [cols.join(','), ...this.rows.map((r) => cols.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))];
    writeFileAtomic(this.path('metrics.csv'), `${csv.join('\n')}\n`);
  }

  writeWeights(name: string, model: Mlp, config: Config, params?: Float32Array | Float64Array): void {
    saveWeights(this.path(name), model, config, params);
  }
}
