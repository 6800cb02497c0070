// mlp-reproduce: run the results table's rows (configs/table.yaml), several
// seeds each, every seed a real mlp-train run; write the run folders and the
// table (table.json, table.md) into --out (default runs/reproduce), print the
// table. The published table (results/) changes only with --publish, and only
// for the rows as the table defines them. With --ci: run the CI subset
// (configs/ci.yaml) and fail if any run falls below its row's threshold.
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { ChildGroup } from '../reproduce/children.js';
import { PUBLISHED_DIR, publishRefusal } from '../reproduce/publish.js';
import { runSeed, type SeedRun } from '../reproduce/run-seed.js';
import { loadCiSpec, loadTableSpec, selectRows, TABLE_SEEDS, type CiRow, type CiSpec, type RowSpec, type TableSpec } from '../reproduce/spec.js';
import { mergeIntoTable, mergeRows, renderMarkdown, rowResult, type RowResult, type Table } from '../reproduce/table.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { writeLog, writeResult } from './output.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR } from './run.js';

export interface ReproduceOptions {
  only: string[];
  seeds: number;
  jobs: number;
  threads?: string;
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
      .option('--jobs <n>', 'runs at the same time', positiveInt, 1)
      .option('--threads <n>', "training.threads of every run (a number or 'auto')")
      .option('-s, --set <key=value>', 'override a config key in every row, e.g. data.limit=5000 (repeatable; recorded in the table)', collect, [])
      .option('--table <file>', 'the rows', 'configs/table.yaml')
      .option('--out <dir>', 'where the run folders (<dir>/<row>/seed-<k>) and the table (table.json, table.md) go (default runs/reproduce; with --ci runs/ci)')
      .option('--publish [dir]', `also merge each finished row into the published table in [dir] (default ${PUBLISHED_DIR}); refused with --set or fewer than ${TABLE_SEEDS} seeds`)
      .option('--json', 'print the table as JSON on stdout (logs stay on stderr)')
      .option('--ci [file]', `run the CI subset of [file] (default ${DEFAULT_CI}) and check its thresholds`)
      .option('--list', 'list the rows and exit')
      .addOption(new Option('--runs <dir>').hideHelp()),
  );
  program.parse(argv, { from: 'node' });
  return { ...program.opts<Omit<ReproduceOptions, 'seedsGiven'>>(), seedsGiven: program.getOptionValueSource('seeds') === 'cli' };
}

function commaList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

interface Task {
  row: RowSpec;
  config: Config;
  seed: number;
}

/** The runs to do and where their folders and tables go. */
interface Plan {
  rows: RowSpec[];
  order: string[]; // the table's row order, kept in the tables written
  seedsOf: (row: RowSpec) => number;
  sets: string[]; // --set, and --threads as training.threads
  tasks: Task[];
  outDir: string;
  publishDir: string | null;
}

/** What the runs left: the rows completed, the table in --out, and the signal that stopped them (or null). */
interface Outcome {
  fresh: RowResult[];
  outTable: Table;
  finished: number;
  stopping: NodeJS.Signals | null;
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
  log.info(
    `mlp-reproduce: ${plan.rows.length} rows, ${plan.tasks.length} runs, ${opts.jobs} at a time; run folders and table in ${plan.outDir}` +
      (plan.publishDir === null ? '' : `; finished rows published in ${plan.publishDir}`),
  );
  const t0 = performance.now();
  const outcome = await runTasks(plan, opts, log);
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

  const sets = opts.threads === undefined ? opts.set : [...opts.set, `training.threads=${opts.threads}`];
  const tasks: Task[] = [];
  for (const row of rows) {
    const config = loadConfig(row.configPath, sets);
    for (let seed = 1; seed <= seedsOf(row); seed++) tasks.push({ row, config, seed });
  }
  return { rows, order, seedsOf, sets, tasks, outDir, publishDir };
}

/**
 * Every task, --jobs at a time, each a mlp-train child; a row whose seeds have
 * all finished is merged into the table in --out (and the published one with
 * --publish) at once. A signal stops the runs (see passOnSignals).
 */
async function runTasks({ order, seedsOf, sets, tasks, outDir, publishDir }: Plan, opts: ReproduceOptions, log: Log): Promise<Outcome> {
  const group = new ChildGroup();
  const done = new Map<string, SeedRun[]>();
  const fresh: RowResult[] = [];
  let outTable: Table = { rows: [] };
  let finished = 0;
  const dispose = passOnSignals(group);
  try {
    await runPool(
      tasks,
      opts.jobs,
      async (task) => {
        const name = `${task.row.name} seed ${task.seed}`;
        const dir = join(outDir, task.row.name, `seed-${task.seed}`);
        const run = await runSeed(group, task.row.configPath, task.seed, sets, dir, (pid) => log.info(`${name}: started, pid ${pid} (${dir})`));
        if ('stopped' in run) {
          log.info(`${name}: stopped (${run.stopped}); resume with: mlp-train --resume ${dir}`);
          return;
        }
        finished++;
        log.info(`${name}: test ${pct(run.test_accuracy)}  ${run.train_seconds.toFixed(1)} s training  (${dir})`);
        const list = [...(done.get(task.row.name) ?? []), run];
        done.set(task.row.name, list);
        if (list.length < seedsOf(task.row)) return;
        // The row is complete: merge it into the tables on disk (other rows keep their results).
        const result = rowResult(task.row, task.config, list, opts.set);
        fresh.push(result);
        outTable = mergeIntoTable(outDir, [result], order);
        if (publishDir !== null) {
          mergeIntoTable(publishDir, [result], order);
          log.info(`${task.row.name}: published in ${join(publishDir, 'table.md')}`);
        }
      },
      () => group.stopping !== null,
      () => group.stop('SIGTERM'), // a failed run stops the others (they checkpoint), then its error is reported
    );
  } finally {
    dispose();
  }
  return { fresh, outTable, finished, stopping: group.stopping };
}

/**
 * SIGINT, SIGTERM or SIGHUP while runs go on: no new run starts, and the signal is passed on to
 * every running mlp-train (which stops after its batch, writes its checkpoint and exits 130); the
 * pool then waits for them. A second signal is passed on too: mlp-train then quits at once.
 * mlp-train does not handle SIGHUP, so a hang-up is passed on as SIGTERM. Returns the remover.
 */
function passOnSignals(group: ChildGroup): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const first = group.stopping === null;
    const running = group.running;
    group.stop(signal === 'SIGHUP' ? 'SIGTERM' : signal); // before any write: stderr may be gone with the terminal
    writeLog(
      first
        ? `\n${signal}: stopping ${running} run${running === 1 ? '' : 's'} after their current batch; no new run starts (press Ctrl-C again to stop them at once)\n`
        : `\n${signal}: stopping ${running} run${running === 1 ? '' : 's'} at once\n`,
    );
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
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

/**
 * Run fn on every item, at most `jobs` at once. No item starts once `stopped()` is true or an item
 * has failed; the first failure calls `onFailure` (to stop the running ones) and, once every
 * running item has settled, rejects.
 */
async function runPool<T>(
  items: readonly T[],
  jobs: number,
  fn: (item: T) => Promise<void>,
  stopped: () => boolean,
  onFailure: () => void,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === null && !stopped()) {
      try {
        await fn(items[next++]);
      } catch (error) {
        if (failure === null) {
          failure = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
