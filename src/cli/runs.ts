// mlp-runs: the run folders under some folders (default runs/), one line
// each with its key settings and results; `mlp-runs compare A B ...` puts two
// or more side by side: the keys in which they differ and their results, and
// with --out the comparison files (table and overlaid curves).
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { differingKeys, findRuns, isRunFolder, readRun, runName, settingsOf, type RunRecord } from '../runs/compare.js';
import { comparisonMarkdown, comparisonRows, writeComparison } from '../runs/comparison.js';
import { METRICS, type Metric } from '../runs/sweep-spec.js';
import { addCommonOptions } from './common.js';
import { Log } from './log.js';
import { writeResult } from './output.js';
import { EXIT_OK } from './run.js';

interface RunsOptions {
  metric: Metric;
  json?: boolean;
  out?: string;
  quiet?: boolean;
}

/** What the listing shows of every run's config. */
const KEY_SETTINGS = ['model.layers', 'model.hidden', 'loss', 'training.optimizer', 'training.lr', 'training.batch_size', 'training.epochs'];

export async function runsMain(argv: string[]): Promise<number> {
  let action: { kind: 'list' | 'compare'; dirs: string[] } = { kind: 'list', dirs: [] };
  const metricOption = (): Option => new Option('--metric <name>', 'sort by this').choices(METRICS).default('test_accuracy');
  const program = addCommonOptions(
    new Command('mlp-runs')
      .description('List run folders with their key settings and results (default: under runs/).')
      .argument('[dirs...]', 'folders holding run folders (searched 3 levels down), or run folders')
      .addOption(metricOption())
      .option('--json', 'print JSON on stdout')
      .action((dirs: string[]) => {
        action = { kind: 'list', dirs };
      }),
  );
  program
    .command('compare')
    .description('two or more run folders side by side: the keys in which they differ, and their results')
    .argument('<runs...>', 'run folders')
    .addOption(metricOption())
    .option('--json', 'print JSON on stdout')
    .option('--out <dir>', 'also write comparison.md, comparison.json and comparison.html (curves overlaid) there')
    .action((dirs: string[]) => {
      action = { kind: 'compare', dirs };
    });
  program.parse(argv, { from: 'node' });
  const sub = program.commands.find((c) => c.name() === 'compare');
  const opts: RunsOptions = action.kind === 'compare' && sub ? { ...program.opts(), ...sub.opts<RunsOptions>() } : program.opts<RunsOptions>();
  const log = new Log({ quiet: opts.quiet });
  return action.kind === 'compare' ? compareRuns(action.dirs, opts, log) : listRuns(action.dirs.length > 0 ? action.dirs : ['runs'], opts);
}

function listRuns(roots: readonly string[], opts: RunsOptions): number {
  const records: RunRecord[] = [];
  for (const root of roots) for (const dir of findRuns(root)) records.push(readRun(dir, runName(resolve(), resolve(dir))));
  settingsOf(records, KEY_SETTINGS);
  const rows = comparisonRows(records, opts.metric);
  writeResult(opts.json ? `${JSON.stringify({ metric: opts.metric, keys: KEY_SETTINGS, rows }, null, 2)}\n` : comparisonMarkdown(rows, KEY_SETTINGS, opts.metric));
  return EXIT_OK;
}

async function compareRuns(dirs: readonly string[], opts: RunsOptions, log: Log): Promise<number> {
  if (dirs.length < 2) throw new UserError('mlp-runs compare: give two or more run folders');
  const records = dirs.map((d) => {
    if (!isRunFolder(d)) throw new UserError(`${d}: not a run folder (no .mlp-run and config.json)`);
    return readRun(d, d);
  });
  const keys = differingKeys(records);
  settingsOf(records, keys);
  if (opts.out !== undefined) {
    await writeComparison(opts.out, `Runs compared`, records, keys, opts.metric);
    log.info(`comparison.md, comparison.json, comparison.html in ${opts.out}`);
  }
  const rows = comparisonRows(records, opts.metric);
  const same = keys.length === 0 ? 'The runs have the same config (but for output.* and training.threads).\n\n' : '';
  writeResult(opts.json ? `${JSON.stringify({ metric: opts.metric, keys, rows }, null, 2)}\n` : same + comparisonMarkdown(rows, keys, opts.metric));
  return EXIT_OK;
}
