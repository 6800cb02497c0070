// Run folders side by side: what each was set to (the keys in which the runs
// differ, or a sweep's own keys), how it ended (summary.json) and its curves
// (metrics.jsonl), as records for the comparison table and page.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { configDiff } from '../config/diff.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { OutputError } from '../errors.js';
import { describe } from '../output/atomic.js';
import { MARKER_FILE } from '../output/run-files.js';
import { readJson, readSummary, type PointSummary } from './point.js';
import type { Metric } from './sweep-spec.js';

/** One epoch's line of metrics.jsonl, the fields the curves use. */
export interface EpochPoint {
  epoch: number;
  loss: number;
  train_accuracy: number | null;
  val_accuracy: number | null;
}

export interface RunRecord {
  name: string;
  dir: string;
  config: Config;
  settings: Record<string, string>; // filled by compareKeys or by the sweep
  summary: PointSummary | null; // null: not finished
  curve: EpochPoint[];
}

export function readRun(dir: string, name: string): RunRecord {
  const configFile = join(dir, 'config.json');
  const config = parseConfig(readJson(configFile), configFile);
  const summary = existsSync(join(dir, 'summary.json')) ? readSummary(dir) : null;
  return { name, dir, config, settings: {}, summary, curve: readCurve(join(dir, 'metrics.jsonl')) };
}

function readCurve(file: string): EpochPoint[] {
  if (!existsSync(file)) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OutputError(file, `cannot read: ${describe(err)}`);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        const m = JSON.parse(line) as EpochPoint;
        return { epoch: m.epoch, loss: m.loss, train_accuracy: m.train_accuracy ?? null, val_accuracy: m.val_accuracy ?? null };
      } catch {
        throw new OutputError(file, `line ${i + 1} is not JSON`);
      }
    });
}

/** A folder a run wrote: its marker and its config. */
export function isRunFolder(d: string): boolean {
  return existsSync(join(d, MARKER_FILE)) && existsSync(join(d, 'config.json'));
}

/** Run folders at or under `root` (a folder with config.json and the run marker), at most `depth` levels down, sorted by path. */
export function findRuns(root: string, depth = 3): string[] {
  const isRun = isRunFolder;
  if (!existsSync(root)) throw new OutputError(root, 'no such folder');
  if (isRun(root)) return [root];
  const found: string[] = [];
  const walk = (d: string, left: number): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const sub = join(d, e.name);
      if (isRun(sub)) found.push(sub);
      else if (left > 1) walk(sub, left - 1);
    }
  };
  if (statSync(root).isDirectory()) walk(root, depth);
  return found.sort();
}

/** Names relative to `root` ("lr-0.5_seed-1", "pi-record/seed-1"). */
export function runName(root: string, dir: string): string {
  return relative(root, dir) || dir;
}

/** The config keys in which the runs differ (output.* and training.threads aside), each run's values as text. */
export function differingKeys(records: RunRecord[]): string[] {
  if (records.length < 2) return [];
  const keys = new Set<string>();
  for (const r of records.slice(1)) {
    for (const d of configDiff(r.config, records[0].config)) {
      if (!/^(output\..*|training\.threads)$/.test(d.key)) keys.add(d.key);
    }
  }
  return [...keys].sort();
}

/** Fill each record's settings with its values of `keys`. */
export function settingsOf(records: RunRecord[], keys: readonly string[]): void {
  for (const r of records) {
    r.settings = {};
    for (const k of keys) r.settings[k] = text(valueAt(r.config, k));
  }
}

function valueAt(config: Config, key: string): unknown {
  let v: unknown = config;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'null');

/** The metric's value of a record (null when it has none). */
export function metricOf(r: RunRecord, metric: Metric): number | null {
  const s = r.summary;
  if (s === null) return null;
  if (metric === 'best_val_accuracy') return s.best?.val_accuracy ?? null;
  return s[metric];
}

/** Best first: accuracies high to low, loss and seconds low to high; unfinished runs last. */
export function sortRuns(records: readonly RunRecord[], metric: Metric): RunRecord[] {
  const sign = metric === 'test_loss' || metric === 'train_seconds' ? 1 : -1;
  return [...records].sort((a, b) => {
    const x = metricOf(a, metric);
    const y = metricOf(b, metric);
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    return sign * (x - y) || a.name.localeCompare(b.name);
  });
}
