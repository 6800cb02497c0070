// mlp-worker: take runs from a Redis queue (src/runs/queue.ts) and train
// them here, --jobs at a time, until stopped. Ctrl-C / SIGTERM: the running
// mlp-train children stop after their batch and write their checkpoints, their
// jobs go back to the queue (another worker resumes them), and the worker
// exits 130. A worker killed outright loses nothing either: its children
// notice and checkpoint, and the queue hands their jobs on after --lock seconds.
import { hostname } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { ChildGroup } from '../runs/children.js';
import { threadShare } from '../runs/local.js';
import { checkQueue, DEFAULT_LOCK_SECONDS, parseQueueUrl, startWorker, type JobData, type JobResult } from '../runs/queue.js';
import { RunFailed, runPoint } from '../runs/run-point.js';
import { addCommonOptions } from './common.js';
import { Log } from './log.js';
import { EXIT_INTERRUPTED } from './run.js';
import { positiveInt, threadsArg } from './runner.js';

interface WorkerCliOptions {
  queue: string;
  jobs: number;
  threads?: string;
  lock: number;
  quiet?: boolean;
}

function parseWorkerArgs(argv: string[]): WorkerCliOptions {
  const program = addCommonOptions(
    new Command('mlp-worker')
      .description('Train the runs of a Redis queue (sent by mlp-sweep --queue or mlp-reproduce --queue) until stopped.')
      .requiredOption('--queue <url>', 'the queue: redis://HOST:PORT')
      .option('--jobs <n>', 'runs at the same time on this machine', positiveInt, 1)
      .option('--threads <n>', "training.threads of each run (default: the cores shared out among --jobs; 'auto' = all cores)", threadsArg)
      .option('--lock <seconds>', 'a job whose worker stops answering goes back to the queue after this long', seconds, DEFAULT_LOCK_SECONDS),
  );
  program.parse(argv, { from: 'node' });
  return program.opts<WorkerCliOptions>();
}

function seconds(value: string): number {
  const s = Number(value);
  if (!(s >= 1 && s <= 3600)) throw new InvalidArgumentError('expected seconds between 1 and 3600');
  return s;
}

export async function workerMain(argv: string[]): Promise<number> {
  const opts = parseWorkerArgs(argv);
  const log = new Log({ quiet: opts.quiet });
  const connection = parseQueueUrl(opts.queue);
  await checkQueue(opts.queue, connection);
  const threads = opts.threads === undefined ? threadShare(opts.jobs) : opts.threads === 'auto' ? 'auto' : Number(opts.threads);
  const me = `${hostname()}:${process.pid}`;
  const group = new ChildGroup();
  const running = new Map<string, number>(); // job id -> its mlp-train's pid
  const run = async (data: JobData, attempt: number, id: string): Promise<JobResult | 'stopped'> => {
    const point = { ...data };
    const out = await runPoint(group, point, {
      threads,
      takeOverLock: true,
      onStart: (pid, state) => {
        running.set(id, pid);
        log.info(`${point.name}: ${state === 'resume' ? 'resumed' : 'started'} (attempt ${attempt}), pid ${pid} (${point.dir})`);
      },
    }).finally(() => running.delete(id));
    if (out.kind === 'stopped') {
      log.info(`${point.name}: stopped (${out.how}); back to the queue`);
      return 'stopped';
    }
    log.info(`${point.name}: test ${(out.summary.test_accuracy * 100).toFixed(2)}%${out.state === 'finished' ? ' (finished before)' : ''}`);
    return { summary: out.summary, state: out.state, worker: me };
  };
  const permanent = (err: unknown): boolean => err instanceof RunFailed && !err.retryable;
  const worker = startWorker({ connection, jobs: opts.jobs, lockSeconds: opts.lock, run, permanent });
  worker.on('error', (err) => log.warn(`queue: ${err.message}`));
  // A job whose lock this worker lost is another worker's now: stop its run here (checkpoint, exit 130).
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) {
      const pid = running.get(id);
      if (pid === undefined) continue;
      log.warn(`job ${id}: this worker lost its lock (the queue may hand it on): stopping its run, pid ${pid}`);
      stopRun(pid);
    }
  });
  worker.on('failed', (job, err) => log.warn(`${job?.name ?? 'a job'}: ${err.message}`));
  log.info(`mlp-worker ${me}: taking runs from ${opts.queue}, ${opts.jobs} at a time, ${threads} threads each`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, () => resolve(s));
  });
  log.info(`${signal}: stopping the runs after their batch; their jobs go back to the queue`);
  group.stop(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  await worker.close();
  return EXIT_INTERRUPTED;
}

/** SIGTERM to a run's process group (it leads one: ChildGroup); gone already is fine. */
function stopRun(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
