// What in a folder is a run's: the files a run writes, by name; the marker
// that names the run (.mlp-run, written only by a run, when it creates the
// folder); and --force's removal, which takes exactly those and nothing else.
// The folder's layout is described in src/output/run-dir.ts.
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from '../errors.js';
import { describe, writeFileAtomic } from './atomic.js';
import { CHECKPOINT_FORMAT } from './checkpoint.js';
import { LOCK_FILE } from './run-lock.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const MARKER_FILE = '.mlp-run';
const MARKER_FORMAT = 'mlp-mnist-run';

/** Files a run writes at the top of its folder: what makes a folder a run folder, and what --force removes, by name. */
const RUN_FILES = [
  'config.json', 'metrics.jsonl', 'metrics.csv', 'model.safetensors', 'best.safetensors', CHECKPOINT_FILE, 'summary.json',
  'report.html',
];
/** The report's charts, report/<name>.svg (src/report/report.ts), the last-epoch and the best weights' ones. */
export const REPORT_DIR = 'report';
export const REPORT_CHARTS = [
  'loss', 'accuracy', 'timing', 'weights',
  'confusion', 'per-class', 'misclassified', 'confusion-best', 'per-class-best', 'misclassified-best',
].map((name) => `${name}.svg`);

/** The marker's content. */
export interface RunMarker {
  format: typeof MARKER_FORMAT;
  id: string; // random; the run's checkpoints carry it too
  created: string; // ISO time
}

/** Leftovers of atomic writes cut short (`name.tmp-<pid>-<random>`). */
const TEMP_SUFFIX = /\.tmp-\d+-[a-z0-9]+$/;
/** `f` is one of `names`, or the leftover temp file of one. */
const isOneOf = (names: readonly string[], f: string): boolean => names.includes(f.replace(TEMP_SUFFIX, ''));

/** Leftover temp files of the run's own files in `dir` (an atomic write cut short). */
export function tempLeftovers(dir: string): string[] {
  return listDir(dir).filter((f) => TEMP_SUFFIX.test(f) && isOneOf([...RUN_FILES, MARKER_FILE], f));
}

/** The run's marker in `dir`, or null if it has none; a damaged one is one line. */
export function readMarker(dir: string): RunMarker | null {
  const file = join(dir, MARKER_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new OutputError(file, `cannot read: ${describe(err)}`);
  }
  let m: Partial<RunMarker>;
  try {
    m = JSON.parse(text) as Partial<RunMarker>;
  } catch {
    throw new OutputError(file, `not a run marker: not JSON`);
  }
  if (m === null || m.format !== MARKER_FORMAT || typeof m.id !== 'string') {
    throw new OutputError(file, `not a run marker: expected {"format": "${MARKER_FORMAT}", "id": ...}`);
  }
  return { format: MARKER_FORMAT, id: m.id, created: typeof m.created === 'string' ? m.created : '' };
}

export function writeMarker(dir: string, id: string): void {
  const marker: RunMarker = { format: MARKER_FORMAT, id, created: new Date().toISOString() };
  writeFileAtomic(join(dir, MARKER_FILE), `${JSON.stringify(marker)}\n`);
}

/** The entries of `dir` that a run wrote (report/ counts when it holds one of the run's charts). */
export function runEntries(dir: string, entries: readonly string[]): string[] {
  return entries.filter((f) => {
    if (f === REPORT_DIR) return isDir(join(dir, f)) && listDir(join(dir, f)).some((c) => isOneOf(REPORT_CHARTS, c));
    return f !== LOCK_FILE && isOneOf([...RUN_FILES, MARKER_FILE], f);
  });
}

/** --force: remove what a run writes, by name (and the temp files of those names); anything else stays. */
export function removeRunFiles(dir: string, entries: readonly string[]): void {
  for (const f of [...entries].sort()) {
    if (f !== LOCK_FILE && isOneOf([...RUN_FILES, MARKER_FILE], f)) remove(join(dir, f));
  }
  const charts = join(dir, REPORT_DIR);
  if (!entries.includes(REPORT_DIR) || !isDir(charts)) return;
  const inside = listDir(charts).sort();
  for (const f of inside) if (isOneOf(REPORT_CHARTS, f)) remove(join(charts, f));
  if (inside.every((f) => isOneOf(REPORT_CHARTS, f))) {
    try {
      rmdirSync(charts);
    } catch (err) {
      throw new OutputError(charts, `cannot remove: ${describe(err)}`);
    }
  }
}

/**
 * A folder from before run markers is still recognized as a run's by its
 * checkpoint: a safetensors file whose metadata says it is this program's
 * checkpoint (only a run writes one). Only the header is read; anything that
 * cannot be read or parsed is not one.
 */
export function isOurCheckpoint(file: string): boolean {
  let fd = -1;
  try {
    fd = openSync(file, 'r');
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) return false;
    const n = Number(len.readBigUInt64LE(0));
    if (n > 16 * 1024 * 1024) return false; // a checkpoint's header is a few KB plus ~300 bytes an epoch
    const header = Buffer.alloc(n);
    if (readSync(fd, header, 0, n, 8) !== n) return false;
    const meta = (JSON.parse(header.toString('utf8')) as { __metadata__?: { format?: unknown } }).__metadata__;
    return meta?.format === CHECKPOINT_FORMAT;
  } catch {
    return false; // missing, unreadable or not safetensors: no proof that a run wrote the folder
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new OutputError(path, `cannot read: ${describe(err)}`);
  }
}

export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new OutputError(dir, `cannot read the folder: ${describe(err)}`);
  }
}

/** Remove a file (unlinkSync: its errors read the same on every Node; rmSync's differ from Node 26 on). */
export function remove(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(file, `cannot remove: ${describe(err)}`);
  }
}
