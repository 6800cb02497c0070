// Points over many machines: a BullMQ queue in Redis. The submitter
// (mlp-sweep or mlp-reproduce with --queue) adds one job per point and waits
// for them; `mlp-worker`s on any machines take jobs, run each as mlp-train
// (src/runs/run-point.ts) and return its summary.
//
// Shared folder assumption: the run folders (--out) live on a path that the
// submitter and every worker see under the same name (NFS, say), and so do
// the data files a config names. A job carries the point's resolved config
// and its absolute run folder; the weights, checkpoints and metrics stay in
// that folder, and a job's result is only its summary.
//
// A worker that dies (killed, machine lost) stops renewing its job's lock;
// after `lockSeconds` any live worker's stalled-job check puts the job back
// in the queue, and whoever takes it resumes the run from the checkpoint in
// its folder. Runs are bit-reproducible and resume bit for bit, so the
// weights do not depend on which worker ran which part.
import { createHash } from 'node:crypto';
import { Job, Queue, QueueEvents, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { describe } from '../output/atomic.js';
import type { PointState, PointSummary, RunPoint } from './point.js';

export const QUEUE_NAME = 'mlp-runs';
/** How long a job stays with a worker that stopped answering before it goes back to the queue. */
export const DEFAULT_LOCK_SECONDS = 30;

export interface JobData {
  name: string;
  dir: string;
  config: Config;
  settings: Record<string, string>;
}

export interface JobResult {
  summary: PointSummary;
  state: PointState;
  worker: string; // host:pid of the worker that finished it
}

export type Connection = Pick<RedisOptions, 'host' | 'port' | 'db' | 'username' | 'password'>;

/** redis://[user:password@]host[:port][/db] as connection options; anything else is one line. */
export function parseQueueUrl(url: string): Connection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--queue ${url}: not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:') throw new UserError(`--queue ${url}: expected a redis:// URL (redis://HOST:PORT)`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^[0-9]+$/.test(db)) throw new UserError(`--queue ${url}: the path must be a database number, e.g. redis://HOST:6379/0`);
  return {
    host: u.hostname === '' ? '127.0.0.1' : u.hostname,
    port: u.port === '' ? 6379 : Number(u.port),
    db: db === '' ? 0 : Number(db),
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** Connect once, without retries, so that a wrong URL or a stopped server is one line rather than a hang. */
export async function checkQueue(url: string, connection: Connection): Promise<void> {
  const probe = new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  let cause: unknown = null;
  probe.on('error', (err) => (cause ??= err)); // the socket's error, more telling than the rejection's
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new UserError(`--queue ${url}: cannot reach Redis: ${describe(cause ?? err)}`);
  } finally {
    probe.disconnect();
  }
}

/** A job per run folder: adding the same point twice (a second submission) finds the first job. */
export function jobId(dir: string): string {
  return `run-${createHash('sha256').update(dir).digest('hex').slice(0, 24)}`;
}

/** The queue's handles for a submitter; `close` releases them. */
export interface Submission {
  queue: Queue<JobData, JobResult>;
  events: QueueEvents;
  close(): Promise<void>;
}

export async function openSubmission(connection: Connection): Promise<Submission> {
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  await events.waitUntilReady();
  return {
    queue,
    events,
    close: async () => {
      await events.close();
      await queue.close();
    },
  };
}

/**
 * The point's job, added or found: one that failed before is retried; one
 * that completed although its folder holds no finished run (the folder was
 * removed) is added again.
 */
export async function submitPoint({ queue }: Submission, point: RunPoint): Promise<Job<JobData, JobResult>> {
  const id = jobId(point.dir);
  const data: JobData = { name: point.name, dir: point.dir, config: point.config, settings: point.settings };
  const old = await Job.fromId<JobData, JobResult>(queue, id);
  if (old !== undefined) {
    const state = await old.getState();
    if (state === 'failed') {
      await old.retry('failed');
      return old;
    }
    if (state !== 'completed') return old;
    await old.remove();
  }
  return queue.add(point.name, data, { jobId: id, attempts: 5, backoff: { type: 'fixed', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
}

export interface WorkerOptions {
  connection: Connection;
  jobs: number; // jobs at a time
  lockSeconds: number;
  /** Run one job's point; 'stopped' when this worker is being stopped (the job goes back to the queue). */
  run: (data: JobData, attempt: number, id: string) => Promise<JobResult | 'stopped'>;
  permanent: (err: unknown) => boolean; // a failure another attempt would repeat
}

export function startWorker(opts: WorkerOptions): Worker<JobData, JobResult> {
  const lockDuration = opts.lockSeconds * 1000;
  return new Worker<JobData, JobResult>(
    QUEUE_NAME,
    async (job, token) => {
      let result: JobResult | 'stopped';
      try {
        result = await opts.run(job.data, job.attemptsMade + 1, job.id ?? job.name);
      } catch (err) {
        if (opts.permanent(err)) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
      if (result !== 'stopped') return result;
      await job.moveToWait(token); // its checkpoint is written: another worker resumes it
      throw new WaitingError();
    },
    { connection: opts.connection, concurrency: opts.jobs, lockDuration, stalledInterval: lockDuration, maxStalledCount: 10 },
  );
}
