// The submitting side of the queue (src/runs/queue.ts): points whose folders
// hold a finished run are read, the others become jobs, and each job's
// result is taken as it completes. Ctrl-C stops the waiting, not the runs:
// they go on on the workers, and the same command later collects them.
import { resolve } from 'node:path';
import type { Job, QueueEvents } from 'bullmq';
import { UserError } from '../errors.js';
import type { OnDone, Finished, Runner } from './local.js';
import { pointState, readSummary, type RunPoint } from './point.js';
import { checkQueue, openSubmission, parseQueueUrl, submitPoint, type JobData, type JobResult } from './queue.js';

export class QueueRunner implements Runner {
  constructor(
    private readonly url: string,
    private readonly log: (line: string) => void,
  ) {}

  describe(points: number): string {
    return `${points} jobs on the queue ${this.url} (run mlp-worker --queue ${this.url} on each machine)`;
  }

  async runAll(points: readonly RunPoint[], onDone: OnDone): Promise<Finished> {
    const connection = parseQueueUrl(this.url);
    await checkQueue(this.url, connection);
    const submission = await openSubmission(connection);
    let finished = 0;
    let stopping: string | null = null;
    let wake: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (wake = resolve));
    const onSignal = (signal: NodeJS.Signals): void => {
      stopping ??= signal;
      wake();
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, onSignal);
    try {
      const waits: Array<Promise<void>> = [];
      for (const given of points) {
        const point = { ...given, dir: resolve(given.dir) }; // the name every worker sees (the shared folder)
        if (pointState(point) === 'finished') {
          finished++;
          await onDone(given, readSummary(point.dir), 'finished');
          continue;
        }
        const job = await submitPoint(submission, point);
        this.log(`${point.name}: queued as job ${job.id ?? '?'} (${point.dir})`);
        waits.push(this.collect(job, submission.events, given, onDone).then(() => void finished++));
      }
      const all = Promise.allSettled(waits);
      await Promise.race([all, stopped]);
      if (stopping !== null) {
        this.log(`${stopping}: stopped waiting; the jobs go on on the workers: run the same command again to collect them`);
        return { finished, stopping };
      }
      const failure = (await all).find((r) => r.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      return { finished, stopping };
    } finally {
      for (const s of signals) process.off(s, onSignal);
      await submission.close();
    }
  }

  private async collect(job: Job<JobData, JobResult>, events: QueueEvents, point: RunPoint, onDone: OnDone): Promise<void> {
    let result: JobResult;
    try {
      result = (await job.waitUntilFinished(events)) as JobResult;
    } catch (err) {
      // the job failed for good: the worker's one line (mlp-train's error) is the reason
      throw new UserError(`job ${job.id ?? '?'} (${point.name}) failed: ${(err as Error).message}`);
    }
    this.log(`${point.name}: done on ${result.worker}`);
    await onDone(point, result.summary, result.state);
  }
}
