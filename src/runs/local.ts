// The points of a sweep or reproduction on this machine: `jobs` mlp-train
// children at a time, each with `threads` threads (by default the cores
// shared out: 2 cores, 2 jobs -> 1 thread each). A finished point is read,
// not run; a point stopped before is resumed from its checkpoint.
import { availableParallelism } from 'node:os';
import { ChildGroup } from './children.js';
import { passOnSignals, runPool } from './pool.js';
import type { PointState, PointSummary, RunPoint } from './point.js';
import { runPoint } from './run-point.js';

/** Called as each point finishes (in the order they finish). */
export type OnDone = (point: RunPoint, summary: PointSummary, state: PointState) => void | Promise<void>;

export interface Finished {
  finished: number; // points done (run now or before)
  stopping: string | null; // what stopped the rest, or null if all ran
}

/** Anything that runs points: this machine's processes, or a queue's workers. */
export interface Runner {
  describe(points: number): string;
  runAll(points: readonly RunPoint[], onDone: OnDone): Promise<Finished>;
}

export interface LocalOptions {
  jobs: number;
  threads: number | 'auto' | null; // null: the share of the cores (or, for jobs = 1, each config's own)
  force?: boolean;
  log: (line: string) => void;
  say: (line: string) => void; // the signal notices (written even with --quiet)
}

/** Threads per run when `jobs` runs share this machine. */
export function threadShare(jobs: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / jobs));
}

export class LocalRunner implements Runner {
  constructor(private readonly opts: LocalOptions) {}

  /** Threads of each run when `running` run at once: --threads, else the share of the cores (null: each config's own). */
  private threads(running: number): number | 'auto' | null {
    return this.opts.threads ?? (running === 1 ? null : threadShare(running));
  }

  describe(points: number): string {
    const jobs = Math.min(this.opts.jobs, points);
    const threads = this.threads(jobs);
    return `${jobs} at a time${threads === null ? '' : `, ${threads} thread${threads === 1 ? '' : 's'} each`}`;
  }

  async runAll(points: readonly RunPoint[], onDone: OnDone): Promise<Finished> {
    const { jobs, force, log, say } = this.opts;
    const share = Math.min(jobs, points.length);
    const group = new ChildGroup();
    const dispose = passOnSignals(group, say);
    let finished = 0;
    try {
      await runPool(
        points,
        jobs,
        async (point) => {
          const threads = this.threads(share) ?? point.config.training.threads;
          const out = await runPoint(group, point, {
            threads,
            force,
            onStart: (pid, state) => log(`${point.name}: ${state === 'resume' ? 'resumed' : 'started'}, pid ${pid} (${point.dir})`),
          });
          if (out.kind === 'stopped') {
            log(`${point.name}: stopped (${out.how}); resume with: mlp-train --resume ${point.dir} (or the same command again)`);
            return;
          }
          finished++;
          await onDone(point, out.summary, out.state);
        },
        () => group.stopping !== null,
        () => group.stop('SIGTERM'), // a failed run stops the others (they checkpoint), then its error is reported
      );
    } finally {
      dispose();
    }
    return { finished, stopping: group.stopping };
  }
}
