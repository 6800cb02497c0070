// The run folder: everything a run leaves behind. Whole files are written
// atomically (temp file + fsync + rename), so a crash never leaves half of
// one; the metrics files grow by appended lines, and a resumed run first
// repairs them from the checkpoint (a crash can cut the last line short, or
// land between a row and the checkpoint that covers it).
//
//   config.json             the resolved config (repeat the run with --config config.json)
//   metrics.jsonl           one JSON object per epoch
//   metrics.csv             the same, as a table
//   model.safetensors       the weights after the last finished epoch
//   best.safetensors        the weights of the best validation epoch (with a validation split)
//   checkpoint.safetensors  weights, optimizer and RNG state, position: what --resume reads
//   summary.json            final figures: test accuracy and loss, times, GFLOP/s
//   report.html, report/    the run report and its charts as .svg (src/report/)
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { OutputError, UserError } from '../errors.js';
import type { Vec } from '../kernels/matmul.js';
import type { Mlp } from '../model/mlp.js';
import { METRICS_COLUMNS, type EpochMetrics } from '../train/state.js';
import { makeDir, writeFileAtomic } from './atomic.js';
import { saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { saveWeights } from './weights.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** Files that make a folder a run folder (and that --force removes). */
const RUN_FILES = [
  'config.json', 'metrics.jsonl', 'metrics.csv', 'model.safetensors', 'best.safetensors', CHECKPOINT_FILE, 'summary.json',
  'report.html', 'report',
];

const jsonLine = (m: EpochMetrics): string => `${JSON.stringify(m)}\n`;
const csvLine = (m: EpochMetrics): string => `${METRICS_COLUMNS.map((c) => (m[c] === null ? '' : String(m[c]))).join(',')}\n`;
const CSV_HEADER = `${METRICS_COLUMNS.join(',')}\n`;

/** Leftovers of atomic writes cut short (`name.tmp-<pid>-<random>`). */
const isTempFile = (f: string): boolean => /\.tmp-\d+-[a-z0-9]+$/.test(f);

export class RunDir {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A new run: create the folder; refuse one that holds a run, unless `force` (which deletes that run's files). */
  static create(dir: string, force: boolean): RunDir {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
      const found = readdirSync(dir).filter((f) => RUN_FILES.includes(f) || isTempFile(f));
      if (found.length > 0 && !force) {
        throw new UserError(`${dir}: already holds a run (${found.slice(0, 3).join(', ')}); resume it with --resume, overwrite it with --force, or choose another --out`);
      }
      for (const f of found) rmSync(join(dir, f), { force: true, recursive: true });
    }
    makeDir(dir);
    const run = new RunDir(dir);
    writeFileAtomic(run.path('metrics.jsonl'), '');
    writeFileAtomic(run.path('metrics.csv'), CSV_HEADER);
    return run;
  }

  /**
   * An interrupted run, to continue from its checkpoint: remove the temp files
   * of writes that never finished, and make the metrics files hold exactly the
   * checkpoint's finished epochs. Returns what it repaired, for the log.
   */
  static resume(dir: string, metrics: readonly EpochMetrics[]): { run: RunDir; repaired: string[] } {
    const run = new RunDir(dir);
    const repaired: string[] = [];
    for (const f of readdirSync(dir).filter(isTempFile)) {
      rmSync(join(dir, f), { force: true });
      repaired.push(`removed ${f}`);
    }
    const expect = (name: string, text: string): void => {
      const file = run.path(name);
      const found = existsSync(file) ? readFileSync(file, 'utf8') : null;
      if (found !== text) {
        writeFileAtomic(file, text);
        repaired.push(`rewrote ${name} to the checkpoint's ${metrics.length} epochs`);
      }
    };
    expect('metrics.jsonl', metrics.map(jsonLine).join(''));
    expect('metrics.csv', CSV_HEADER + metrics.map(csvLine).join(''));
    return { run, repaired };
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

  /** Append an epoch's row to metrics.jsonl and metrics.csv (fsynced; the checkpoint written after it covers it). */
  addEpoch(m: EpochMetrics): void {
    this.append('metrics.jsonl', jsonLine(m));
    this.append('metrics.csv', csvLine(m));
  }

  writeWeights(name: string, model: Mlp, config: Config, params?: Vec): void {
    saveWeights(this.path(name), model, config, params);
  }

  writeCheckpoint(ck: Checkpoint<Vec> & { config: Config }): void {
    saveCheckpoint(this.path(CHECKPOINT_FILE), ck);
  }

  private append(name: string, text: string): void {
    const file = this.path(name);
    let fd = -1;
    try {
      fd = openSync(file, 'a');
      const bytes = Buffer.from(text, 'utf8');
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } catch (err) {
      throw new OutputError(file, `cannot append: ${(err as Error).message}`);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }
}
