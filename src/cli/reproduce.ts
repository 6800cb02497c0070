// mlp-reproduce: run the results table's rows (configs/table.yaml), several
// seeds each, every seed a real mlp-train run; write the run folders and the
// table (table.json, table.md) into --out (default runs/reproduce), print the
// table. The published table (results/) changes only with --publish, and only
// for the rows as the table defines them. With --ci: run the CI subset
// (configs/ci.yaml) and fail if any run falls below its row's threshold.
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { PUBLISHED_DIR, publishRefusal } from '../reproduce/publish.js';
import { seedPoint, seedRun, type SeedRun } from '../reproduce/run-seed.js';
import { loadCiSpec, loadTableSpec, selectRows, TABLE_SEEDS, type CiRow, type CiSpec, type RowSpec, type TableSpec } from '../reproduce/spec.js';
import { mergeIntoTable, mergeRows, renderMarkdown, rowResult, type RowResult, type Table } from '../reproduce/table.js';
import { readJson, type RunPoint } from '../runs/point.js';
import type { Runner } from '../runs/local.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { writeLog, writeResult } from './output.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR } from './run.js';
import { addRunnerOptions, makeRunner, positiveInt, type RunnerOptions } from './runner.js';

export interface ReproduceOptions extends RunnerOptions {
  only: string[];
  seeds: number;
  set: string[];
  table: string;
  out?: string;
  publish?: string | true;
  json?: boolean;
  runs?: string; // removed: an error that says --out
  ci?: string | true;
  list?: boolean;
  quiet?: boolean;
  seedsGiven: boolean; // --seeds was on the command line (not the default)
}

const DEFAULT_CI = 'configs/ci.yaml';

export function parseReproduceArgs(argv: string[]): ReproduceOptions {
  const program = addCommonOptions(
    new Command('mlp-reproduce')
      .description('Run the results table: each row a config, each seed a real mlp-train run.')
      .option('--only <names>', 'run only these rows (comma-separated or repeated); the others keep their results', commaList, [])
      .option('--seeds <k>', 'seeds 1..k per row', positiveInt, TABLE_SEEDS)
      .option('-s, --set <key=value>', 'override a config key in every row, e.g. data.limit=5000 (repeatable; recorded in the table)', collect, [])
      .option('--table <file>', 'the rows', 'configs/table.yaml')
      .option('--out <dir>', 'where the run folders (<dir>/<row>/seed-<k>) and the table (table.json, table.md) go (default runs/reproduce; with --ci runs/ci)')
      .option('--publish [dir]', `also merge each finished row into the published table in [dir] (default ${PUBLISHED_DIR}); refused with --set or fewer than ${TABLE_SEEDS} seeds`)
      .option('--json', 'print the table as JSON on stdout (logs stay on stderr)')
      .option('--ci [file]', `run the CI subset of [file] (default ${DEFAULT_CI}) and check its thresholds`)
      .option('--list', 'list the rows and exit')
      .addOption(new Option('--runs <dir>').hideHelp()),
  );
  addRunnerOptions(program, 1, 'runs at the same time on this machine');
  program.parse(argv, { from: 'node' });
  return { ...program.opts<Omit<ReproduceOptions, 'seedsGiven'>>(), seedsGiven: program.getOptionValueSource('seeds') === 'cli' };
}

function commaList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

interface Task {
  row: RowSpec;
  config: Config; // the row's, with --set
  seed: number;
  point: RunPoint;
}

/** The runs to do and where their folders and tables go. */
interface Plan {
  rows: RowSpec[];
  order: string[]; // the table's row order, kept in the tables written
  seedsOf: (row: RowSpec) => number;
  sets: string[]; // --set
  tasks: Task[];
  outDir: string;
  publishDir: string | null;
}

/** What the runs left: the rows completed, the table in --out, and the signal that stopped them (or null). */
interface Outcome {
  fresh: RowResult[];
  outTable: Table;
  finished: number;
  stopping: string | null;
}

export async function reproduceMain(argv: string[]): Promise<number> {
  const opts = parseReproduceArgs(argv);
  if (opts.runs !== undefined) throw new UserError('--runs was removed: use --out DIR (it receives the run folders and the table)');
  const log = new Log({ quiet: opts.quiet });
  const ci = loadCi(opts);
  const table = ci ? ci.table : loadTableSpec(opts.table);
  if (opts.list) {
    listRows(table, opts.json === true);
    return EXIT_OK;
  }
  const plan = planRuns(opts, ci, table);
  const runner = makeRunner(opts, log);
  log.info(
    `mlp-reproduce: ${plan.rows.length} rows, ${plan.tasks.length} runs, ${runner.describe(plan.tasks.length)}; run folders and table in ${plan.outDir}` +
      (plan.publishDir === null ? '' : `; finished rows published in ${plan.publishDir}`),
  );
  const t0 = performance.now();
  const outcome = await runTasks(plan, runner, log);
  const wall = (performance.now() - t0) / 1000;
  const { outDir } = plan;
  if (outcome.stopping !== null) {
    const { fresh } = outcome;
    const complete = fresh.length === 0 ? 'no row is complete' : `the complete rows (${fresh.map((r) => r.name).join(', ')}) are in ${join(outDir, 'table.md')}`;
    log.warn(`${outcome.stopping}: stopped after ${outcome.finished} of ${plan.tasks.length} runs; ${complete}`);
    return EXIT_INTERRUPTED;
  }
  // --ci shows this run's rows; otherwise the whole table of the folder
  const shown: Table = ci ? { rows: mergeRows([], outcome.fresh, plan.order) } : outcome.outTable;
  writeResult(opts.json ? `${JSON.stringify(shown, null, 2)}\n` : renderMarkdown(shown));
  log.info(`${plan.tasks.length} runs in ${wall.toFixed(0)} s wall time; table in ${join(outDir, 'table.md')}`);
  if (!ci) return EXIT_OK;

  const failures = checkThresholds(ci.rows, outcome.fresh);
  for (const line of failures.lines) writeLog(`${line}\n`);
  return failures.failed ? EXIT_USER_ERROR : EXIT_OK;
}

/** --ci's file, or null without --ci; --only, --seeds and --publish do not go with it. */
function loadCi(opts: ReproduceOptions): CiSpec | null {
  const ci = opts.ci === undefined ? null : loadCiSpec(opts.ci === true ? DEFAULT_CI : opts.ci);
  if (ci && (opts.only.length > 0 || opts.seedsGiven)) throw new UserError('--ci runs the rows and seeds of its file: drop --only/--seeds');
  if (ci && opts.publish !== undefined) throw new UserError('--ci writes its table beside its runs, never into the published one: drop --publish');
  return ci;
}

/** --list: the rows and their configs. */
function listRows(table: TableSpec, json: boolean): void {
  const list = table.rows.map((r) => ({ name: r.name, config: r.config }));
  writeResult(json ? `${JSON.stringify(list, null, 2)}\n` : list.map((r) => `${r.name}  ${r.config}\n`).join(''));
}

/** The folders, checked; the rows and their seeds; every row's config resolved (and so validated) before the first run starts. */
function planRuns(opts: ReproduceOptions, ci: CiSpec | null, table: TableSpec): Plan {
  const outDir = opts.out ?? (ci ? 'runs/ci' : 'runs/reproduce');
  const publishDir = opts.publish === undefined ? null : opts.publish === true ? PUBLISHED_DIR : opts.publish;
  const published = publishDir ?? PUBLISHED_DIR;
  if (resolve(outDir) === resolve(published)) {
    throw new UserError(`--out ${outDir} is the published table's folder: write the runs elsewhere and use --publish to update it`);
  }
  if (publishDir !== null) {
    const refusal = publishRefusal(opts.set, opts.seeds);
    if (refusal) throw new UserError(`${refusal} (without --publish the table goes to ${join(outDir, 'table.md')})`);
  }
  const rows = ci ? selectRows(table, ci.rows.map((r) => r.name), ci.file) : selectRows(table, opts.only);
  const order = table.rows.map((r) => r.name);
  const seedsOf = (row: RowSpec): number => ci?.rows.find((r) => r.name === row.name)?.seeds ?? opts.seeds;

  const sets = opts.set;
  const tasks: Task[] = [];
  for (const row of rows) {
    const config = loadConfig(row.configPath, sets); // validated before the first run starts
    for (let seed = 1; seed <= seedsOf(row); seed++) tasks.push({ row, config, seed, point: seedPoint(row.name, config, seed, outDir) });
  }
  return { rows, order, seedsOf, sets, tasks, outDir, publishDir };
}

/**
 * Every task through the runner (--jobs at a time here, or the queue's
 * workers); a row whose seeds have all finished is merged into the table in
 * --out (and the published one with --publish) at once.
 */
async function runTasks({ order, seedsOf, sets, tasks, outDir, publishDir }: Plan, runner: Runner, log: Log): Promise<Outcome> {
  const done = new Map<string, SeedRun[]>();
  const fresh: RowResult[] = [];
  let outTable: Table = { rows: [] };
  const byPoint = new Map(tasks.map((t) => [t.point, t]));
  const { finished, stopping } = await runner.runAll(
    tasks.map((t) => t.point),
    (point, summary, state) => {
      const task = byPoint.get(point);
      if (task === undefined) throw new Error(`not a task: ${point.name}`);
      const run = seedRun(task.seed, point.dir, summary);
      const before = state === 'finished' ? ' (finished before)' : '';
      log.info(`${point.name}: test ${pct(run.test_accuracy)}  ${run.train_seconds.toFixed(1)} s training${before}  (${point.dir})`);
      const list = [...(done.get(task.row.name) ?? []), run].sort((a, b) => a.seed - b.seed);
      done.set(task.row.name, list);
      if (list.length < seedsOf(task.row)) return;
      // The row is complete: merge it into the tables on disk (other rows keep their results).
      // the threads the runs had (the runner's share, or a worker's): their folder's config.json
      const threads = parseConfig(readJson(join(point.dir, 'config.json')), point.dir).training.threads;
      const result = rowResult(task.row, { ...task.config, training: { ...task.config.training, threads } }, list, sets);
      fresh.push(result);
      outTable = mergeIntoTable(outDir, [result], order);
      if (publishDir !== null) {
        mergeIntoTable(publishDir, [result], order);
        log.info(`${task.row.name}: published in ${join(publishDir, 'table.md')}`);
      }
    },
  );
  return { fresh, outTable, finished, stopping };
}

/** Every run of every CI row against its threshold; lines to print and whether any fell below. */
export function checkThresholds(rows: readonly CiRow[], results: readonly RowResult[]): { failed: boolean; lines: string[] } {
  const lines: string[] = [];
  let failed = false;
  for (const ci of rows) {
    const result = results.find((r) => r.name === ci.name);
    if (!result) throw new Error(`no result for CI row ${ci.name}`);
    for (const run of result.runs) {
      const ok = run.test_accuracy >= ci.threshold;
      failed ||= !ok;
      lines.push(
        `${ok ? 'ok  ' : 'FAIL'} ${ci.name} seed ${run.seed}: test ${pct(run.test_accuracy)} ${ok ? '>=' : '<'} threshold ${pct(ci.threshold)}`,
      );
    }
  }
  return { failed, lines };
}
