// mlp-sweep: train every point of a grid (and random draws) as a normal run
// folder under --out, in parallel on this machine or on a queue's workers,
// then write the comparison (comparison.md, .json, .html) beside them and
// print its table. A second invocation skips finished points and resumes
// stopped ones; `mlp-sweep compare DIR` only rewrites the comparison.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../output/atomic.js';
import { readRun, type RunRecord } from '../runs/compare.js';
import { comparisonMarkdown, writeComparison } from '../runs/comparison.js';
import { readJson, type RunPoint } from '../runs/point.js';
import { flagSweep, METRICS, readSweepFile, sweepPoints, type Metric, type SweepSpec } from '../runs/sweep-spec.js';
import { addCommonOptions, collect } from './common.js';
import { Log } from './log.js';
import { writeResult } from './output.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './run.js';
import { addRunnerOptions, makeRunner, type RunnerOptions } from './runner.js';

interface SweepOptions extends RunnerOptions {
  config?: string;
  file?: string;
  grid: string[];
  set: string[];
  out: string;
  metric?: Metric;
  json?: boolean;
  list?: boolean;
  quiet?: boolean;
}

const SWEEP_FILE = 'sweep.json';

function parseSweepArgs(argv: string[]): { command: 'run' | 'compare'; opts: SweepOptions; dir?: string } {
  let compareDir: string | undefined;
  const program = addCommonOptions(
    new Command('mlp-sweep')
      .description('Train every point of a grid of config values as a run folder under --out, and compare them.')
      .option('-c, --config <file>', 'the base config (YAML or JSON)')
      .option('--file <sweep.yaml>', 'a sweep file: config, grid, random draws and metric')
      .option('--grid <key=v1,v2,...>', 'a key and its values (repeatable: every combination is a point)', collect, [])
      .option('-s, --set <key=value>', 'override a config key in every point (repeatable)', collect, [])
      .option('--out <dir>', 'one run folder per point, and the comparison files', 'runs/sweep')
      .addOption(new Option('--metric <name>', 'sort the comparison by this (default test_accuracy)').choices(METRICS))
      .option('--json', 'print the comparison as JSON on stdout (logs stay on stderr)')
      .option('--list', 'list the points and exit'),
  ).allowExcessArguments(false);
  addRunnerOptions(program, Math.max(1, availableParallelism()), 'runs at the same time on this machine (default: the cores)');
  program.action(() => {}); // without a subcommand: the sweep
  program
    .command('compare <dir>')
    .description("rewrite a sweep's comparison files from its run folders")
    .action((dir: string) => {
      compareDir = dir;
    });
  program.parse(argv, { from: 'node' });
  const opts = program.opts<SweepOptions>();
  return compareDir === undefined ? { command: 'run', opts } : { command: 'compare', opts, dir: compareDir };
}

export async function sweepMain(argv: string[]): Promise<number> {
  const { command, opts, dir } = parseSweepArgs(argv);
  const log = new Log({ quiet: opts.quiet });
  if (command === 'compare' && dir !== undefined) return compareSweep(dir, opts, log);
  const spec = readSpec(opts);
  const points = sweepPoints(spec, opts.set, opts.out);
  const metric = opts.metric ?? spec.metric ?? 'test_accuracy';
  if (opts.list) {
    writeResult(points.map((p) => `${p.name}  ${Object.entries(p.settings).map(([k, v]) => `${k}=${v}`).join(' ')}\n`).join(''));
    return EXIT_OK;
  }
  mkdirSync(opts.out, { recursive: true });
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.settings)))];
  writeFileAtomic(join(opts.out, SWEEP_FILE), `${JSON.stringify({ base: spec.base ?? null, sets: opts.set, keys, metric, points: points.map((p) => ({ name: p.name, settings: p.settings })) }, null, 2)}\n`);
  const runner = makeRunner(opts, log);
  log.info(`mlp-sweep: ${points.length} points, ${runner.describe(points.length)}; run folders and comparison in ${opts.out}`);
  const t0 = performance.now();
  const { stopping } = await runner.runAll(points, (point, summary, state) => {
    const before = state === 'finished' ? ' (finished before)' : '';
    log.info(`${point.name}: test ${(summary.test_accuracy * 100).toFixed(2)}%  ${summary.train_seconds.toFixed(1)} s training${before}`);
  });
  const wall = (performance.now() - t0) / 1000;
  const records = pointRecords(points);
  const rows = await writeComparison(opts.out, `Sweep ${opts.out}`, records, keys, metric);
  const files = ['comparison.md', 'comparison.json', 'comparison.html'].map((f) => join(opts.out, f)).join(', ');
  if (stopping !== null) {
    log.warn(`${stopping}: stopped; the comparison so far is in ${files}; run the same command again to go on`);
    return EXIT_INTERRUPTED;
  }
  writeResult(opts.json ? `${JSON.stringify({ metric, keys, rows }, null, 2)}\n` : comparisonMarkdown(rows, keys, metric));
  log.info(`${points.length} points in ${wall.toFixed(1)} s wall time; ${files}`);
  return EXIT_OK;
}

function readSpec(opts: SweepOptions): SweepSpec {
  if (opts.file === undefined) return flagSweep(opts.config, opts.grid);
  const spec = readSweepFile(opts.file);
  if (opts.config !== undefined) spec.base = opts.config;
  spec.axes.push(...flagSweep(undefined, opts.grid).axes);
  return spec;
}

/** The points' folders that hold a run (finished or not), with the sweep's own settings. */
function pointRecords(points: readonly RunPoint[]): RunRecord[] {
  return points
    .filter((p) => existsSync(join(p.dir, 'config.json')))
    .map((p) => ({ ...readRun(p.dir, p.name), settings: p.settings }));
}

/** mlp-sweep compare DIR: the comparison again from DIR/sweep.json and the run folders. */
async function compareSweep(dir: string, opts: SweepOptions, log: Log): Promise<number> {
  const file = join(dir, SWEEP_FILE);
  if (!existsSync(file)) throw new UserError(`${dir}: no ${SWEEP_FILE} (not a sweep's --out folder; mlp-runs compares any run folders)`);
  const sweep = readJson(file) as { keys: string[]; metric: Metric; points: Array<{ name: string; settings: Record<string, string> }> };
  const metric = opts.metric ?? sweep.metric;
  const records = sweep.points
    .filter((p) => existsSync(join(dir, p.name, 'config.json')))
    .map((p) => ({ ...readRun(join(dir, p.name), p.name), settings: p.settings }));
  const rows = await writeComparison(dir, `Sweep ${dir}`, records, sweep.keys, metric);
  writeResult(opts.json ? `${JSON.stringify({ metric, keys: sweep.keys, rows }, null, 2)}\n` : comparisonMarkdown(rows, sweep.keys, metric));
  log.info(`${records.length} of ${sweep.points.length} points have run folders; comparison in ${dir}`);
  return EXIT_OK;
}
