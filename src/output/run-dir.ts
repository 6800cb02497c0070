// The run folder: everything a run leaves behind. Whole files are written
// atomically (temp file + fsync + rename), so a crash never leaves half of
// one; the metrics files grow by appended lines, and a resumed run first
// repairs them from the checkpoint (a crash can cut the last line short, or
// land between a row and the checkpoint that covers it).
//
//   .mlp-run                the marker: written only by a run, when it creates the folder; names the run
//                           ({"format": "mlp-mnist-run", "id": ...}); --force replaces only a folder that has it
//   .mlp-run.lock           the lock of the process writing into the folder (src/output/run-lock.ts)
//   config.json             the resolved config (repeat the run with --config config.json)
//   metrics.jsonl           one JSON object per epoch
//   metrics.csv             the same, as a table
//   model.safetensors       the weights after the last finished epoch
//   best.safetensors        the weights of the best validation epoch (with a validation split)
//   checkpoint.safetensors  weights, optimizer and RNG state, position: what --resume reads
//   summary.json            final figures: test accuracy and loss, times, GFLOP/s
//   report.html, report/    the run report and its charts as .svg (src/report/)
//
// One process at a time owns a folder: creating or resuming takes the lock
// first, and refuses a folder another live run holds. A default folder is
// named by the time to the millisecond plus a random suffix and created with
// an exclusive mkdir (retried with another suffix), so runs started together
// never share one. Every file system failure is one OutputError line.
// Which files are a run's, its marker, and what --force removes: src/output/run-files.ts.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { OutputError, UserError } from '../errors.js';
import type { Vec } from '../kernels/matmul.js';
import type { Mlp } from '../model/mlp.js';
import { METRICS_COLUMNS, type EpochMetrics } from '../train/state.js';
import { describe, makeDir, writeFileAtomic } from './atomic.js';
import { saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { RunLock } from './run-lock.js';
import {
  CHECKPOINT_FILE, isOurCheckpoint, listDir, MARKER_FILE, readMarker, remove, removeRunFiles, runEntries, tempLeftovers, writeMarker,
} from './run-files.js';
import { saveWeights } from './weights.js';


/** Where default run folders go (relative to the working directory). */
export const DEFAULT_RUNS_DIR = 'runs';

const jsonLine = (m: EpochMetrics): string => `${JSON.stringify(m)}\n`;
const csvLine = (m: EpochMetrics): string => `${METRICS_COLUMNS.map((c) => (m[c] === null ? '' : String(m[c]))).join(',')}\n`;
const CSV_HEADER = `${METRICS_COLUMNS.join(',')}\n`;

export class RunDir {
  readonly dir: string;
  /** The marker's id: the run's checkpoints record it. */
  readonly runId: string;
  private readonly lock: RunLock;

  private constructor(dir: string, runId: string, lock: RunLock) {
    this.dir = dir;
    this.runId = runId;
    this.lock = lock;
  }

  /**
   * A new run, in `dir`, or (null) in a new folder under runs/ with a name no
   * other run has. A given `dir` may be new, empty, or hold unrelated files; one
   * that holds a run is refused, unless `force` and a run created it (its
   * marker; in a folder from before markers, a checkpoint of this program):
   * then that run's files are removed, by name, and nothing else.
   * `notes` says what the log should (a stale lock taken over).
   */
  static create(dir: string | null, force: boolean, foreignLockIsStale = false): { run: RunDir; notes: string[] } {
    const path = dir ?? createUniqueDir(DEFAULT_RUNS_DIR);
    if (dir !== null) makeDir(dir);
    const lock = RunLock.acquire(path, foreignLockIsStale);
    try {
      const entries = listDir(path);
      const found = runEntries(path, entries);
      if (found.length > 0) {
        const shown = (found.length > 1 ? found.filter((f) => f !== MARKER_FILE) : found).slice(0, 3).join(', ');
        if (!force) {
          throw new UserError(`${path}: already holds a run (${shown}); resume it with --resume, overwrite it with --force, or choose another --out`);
        }
        if (!entries.includes(MARKER_FILE) && !isOurCheckpoint(join(path, CHECKPOINT_FILE))) {
          throw new UserError(`${path}: was not created by mlp-train (no ${MARKER_FILE} marker), so --force deletes nothing in it (it holds ${shown}); choose another --out`);
        }
        removeRunFiles(path, entries);
      }
      const runId = randomBytes(8).toString('hex');
      writeMarker(path, runId);
      const run = new RunDir(path, runId, lock);
      writeFileAtomic(run.path('metrics.jsonl'), '');
      writeFileAtomic(run.path('metrics.csv'), CSV_HEADER);
      return { run, notes: lock.note ? [lock.note] : [] };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /**
   * An interrupted run, to continue from its checkpoint: take the lock, remove
   * the temp files of writes that never finished, and make the metrics files
   * hold exactly the checkpoint's finished epochs. A folder from before run
   * markers gets one. Returns what it did, for the log.
   */
  static resume(dir: string, metrics: readonly EpochMetrics[], foreignLockIsStale = false): { run: RunDir; repaired: string[] } {
    const lock = RunLock.acquire(dir, foreignLockIsStale);
    try {
      const repaired: string[] = lock.note ? [lock.note] : [];
      let runId = readMarker(dir)?.id ?? null;
      if (runId === null) {
        runId = randomBytes(8).toString('hex');
        writeMarker(dir, runId);
        repaired.push(`wrote the run marker ${MARKER_FILE} (the folder had none)`);
      }
      const run = new RunDir(dir, runId, lock);
      for (const f of tempLeftovers(dir)) {
        remove(join(dir, f));
        repaired.push(`removed ${f}`);
      }
      const expect = (name: string, text: string): void => {
        const file = run.path(name);
        const found = existsSync(file) ? readText(file) : null;
        if (found !== text) {
          writeFileAtomic(file, text);
          repaired.push(`rewrote ${name} to the checkpoint's ${metrics.length} epochs`);
        }
      };
      expect('metrics.jsonl', metrics.map(jsonLine).join(''));
      expect('metrics.csv', CSV_HEADER + metrics.map(csvLine).join(''));
      return { run, repaired };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Whether `dir` holds a run (its marker, or any file a run writes); false if it does not exist or cannot be read. */
  static holdsRun(dir: string): boolean {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return false; // the caller goes on to create or open it, which reports the problem in its own words
    }
    return runEntries(dir, entries).length > 0;
  }

  /** Let go of the folder (the lock); also happens at process exit. */
  release(): void {
    this.lock.release();
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
    saveCheckpoint(this.path(CHECKPOINT_FILE), { ...ck, runId: this.runId });
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

/**
 * A new folder under `parent` named by the time to the millisecond and a
 * random suffix, e.g. runs/20261130-171551-123-k3j9; mkdir fails if the name
 * exists, and then another suffix is drawn.
 */
function createUniqueDir(parent: string): string {
  makeDir(parent);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  for (let attempt = 0; attempt < 100; attempt++) {
    const d = new Date();
    const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}-${p(d.getMilliseconds(), 3)}`;
    const dir = join(parent, `${stamp}-${randomBytes(3).toString('hex').slice(0, 4)}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputError(dir, `cannot create the folder: ${describe(err)}`);
    }
  }
  throw new OutputError(parent, 'cannot create a new run folder: 100 names in a row were taken');
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new OutputError(file, `cannot read: ${describe(err)}`);
  }
}
