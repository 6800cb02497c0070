// The options that say where a command's runs go (mlp-sweep, mlp-reproduce):
// --jobs and --threads on this machine, or --queue to the workers of a Redis
// queue; --force to start every run over.
import { InvalidArgumentError, type Command } from 'commander';
import { LocalRunner, type Runner } from '../runs/local.js';
import { QueueRunner } from '../runs/queue-runner.js';
import type { Log } from './log.js';
import { writeLog } from './output.js';

export interface RunnerOptions {
  jobs: number;
  threads?: string;
  queue?: string;
  force?: boolean;
}

export function addRunnerOptions(program: Command, jobsDefault: number, jobsHelp: string): Command {
  return program
    .option('--jobs <n>', jobsHelp, positiveInt, jobsDefault)
    .option('--threads <n>', "training.threads of every run (a number or 'auto'; default: the cores shared out among --jobs)", threadsArg)
    .option('--queue <url>', 'send the runs to the workers of this Redis queue (redis://HOST:PORT) instead of running them here')
    .option('--force', 'start every run over, even those whose folders hold a finished or stopped run');
}

export function makeRunner(opts: RunnerOptions, log: Log): Runner {
  if (opts.queue !== undefined) return new QueueRunner(opts.queue, (line) => log.info(line));
  const threads = opts.threads === undefined ? null : opts.threads === 'auto' ? 'auto' : Number(opts.threads);
  return new LocalRunner({ jobs: opts.jobs, threads, force: opts.force, log: (line) => log.info(line), say: writeLog });
}

export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export function threadsArg(value: string): string {
  if (value !== 'auto' && !/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError("expected a positive integer or 'auto'");
  return value;
}
