// mlp-reproduce: run the results table's rows (configs/table.yaml), several
// seeds each, every seed a real mlp-train run; write results/table.json and
// results/table.md; print the table. With --ci: run the CI subset
// (configs/ci.yaml) and fail if any run falls below its row's threshold.
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { runSeed, type SeedRun } from '../reproduce/run-seed.js';
import { loadCiSpec, loadTableSpec, selectRows, type CiRow, type RowSpec } from '../reproduce/spec.js';
import { mergeRows, readTable, renderMarkdown, rowResult, writeTable, type RowResult } from '../reproduce/table.js';
import { addCommonOptions, collect } from './common.js';
import { Log, pct } from './log.js';
import { EXIT_OK, EXIT_USER_ERROR } from './run.js';

export interface ReproduceOptions {
  only: string[];
  seeds: number;
  jobs: number;
  threads?: string;
  set: string[];
  table: string;
  out: string;
  runs?: string;
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
      .option('--seeds <k>', 'seeds 1..k per row', positiveInt, 5)
      .option('--jobs <n>', 'runs at the same time', positiveInt, 1)
      .option('--threads <n>', "training.threads of every run (a number or 'auto')")
      .option('-s, --set <key=value>', 'override a config key in every row, e.g. data.limit=5000 (repeatable)', collect, [])
      .option('--table <file>', 'the rows', 'configs/table.yaml')
      .option('--out <dir>', 'where table.json and table.md go', 'results')
      .option('--runs <dir>', 'where the run folders go, <dir>/<row>/seed-<k> (default runs/reproduce; with --ci runs/ci, with its table.json/md)')
      .option('--ci [file]', `run the CI subset of [file] (default ${DEFAULT_CI}) and check its thresholds`)
      .option('--list', 'list the rows and exit'),
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
  sets: string[];
  seed: number;
}

export async function reproduceMain(argv: string[]): Promise<number> {
  const opts = parseReproduceArgs(argv);
  const log = new Log({ quiet: opts.quiet });
  const ci = opts.ci === undefined ? null : loadCiSpec(opts.ci === true ? DEFAULT_CI : opts.ci);
  if (ci && (opts.only.length > 0 || opts.seedsGiven)) throw new UserError('--ci runs the rows and seeds of its file: drop --only/--seeds');
  const table = ci ? ci.table : loadTableSpec(opts.table);
  if (opts.list) {
    for (const r of table.rows) process.stdout.write(`${r.name}  ${r.config}\n`);
    return EXIT_OK;
  }
  const rows = ci ? selectRows(table, ci.rows.map((r) => r.name), ci.file) : selectRows(table, opts.only);
  const seedsOf = (row: RowSpec): number => ci?.rows.find((r) => r.name === row.name)?.seeds ?? opts.seeds;

  // Every row's config is resolved (and so validated) before the first run starts.
  const sets = opts.threads === undefined ? opts.set : [...opts.set, `training.threads=${opts.threads}`];
  const tasks: Task[] = [];
  for (const row of rows) {
    const config = loadConfig(row.configPath, sets);
    for (let seed = 1; seed <= seedsOf(row); seed++) tasks.push({ row, config, sets, seed });
  }
  const runsDir = opts.runs ?? (ci ? 'runs/ci' : 'runs/reproduce');
  const outDir = ci ? runsDir : opts.out; // the CI's table stays beside its runs: results/ holds the published one
  log.info(`mlp-reproduce: ${rows.length} rows, ${tasks.length} runs, ${opts.jobs} at a time; results in ${outDir}`);

  const done = new Map<string, SeedRun[]>();
  const fresh: RowResult[] = [];
  const t0 = performance.now();
  await runPool(tasks, opts.jobs, async (task) => {
    const dir = join(runsDir, task.row.name, `seed-${task.seed}`);
    const run = await runSeed(task.row.configPath, task.seed, task.sets, dir);
    log.info(`${task.row.name} seed ${task.seed}: test ${pct(run.test_accuracy)}  ${run.train_seconds.toFixed(1)} s training  (${dir})`);
    const list = [...(done.get(task.row.name) ?? []), run];
    done.set(task.row.name, list);
    if (list.length === seedsOf(task.row)) {
      // The row is complete: merge it into the table on disk (other rows keep their results).
      const result = rowResult(task.row, task.config, list);
      fresh.push(result);
      const merged = mergeRows(readTable(join(outDir, 'table.json')).rows, [result], table.rows.map((r) => r.name));
      writeTable(outDir, { rows: merged });
    }
  });
  const wall = (performance.now() - t0) / 1000;
  const shown = ci ? fresh : readTable(join(outDir, 'table.json')).rows;
  process.stdout.write(renderMarkdown({ rows: mergeRows([], shown, table.rows.map((r) => r.name)) }));
  log.info(`${tasks.length} runs in ${wall.toFixed(0)} s wall time`);
  if (!ci) return EXIT_OK;

  const failures = checkThresholds(ci.rows, fresh);
  for (const line of failures.lines) process.stderr.write(`${line}\n`);
  return failures.failed ? EXIT_USER_ERROR : EXIT_OK;
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

/** Run fn on every item, at most `jobs` at once; after a failure no new item starts, and the first failure rejects. */
async function runPool<T>(items: readonly T[], jobs: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      try {
        await fn(items[next++]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
}
