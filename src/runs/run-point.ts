// One point as a real `mlp-train` process (the command a user types), in a
// ChildGroup: a fresh run from the point's resolved config (written to a temp
// file), or --resume of its folder; a finished point is not run again. The
// result is the folder's summary.json, so it is the same whether the run
// happened here, earlier, or on another machine sharing the folder.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { ChildGroup } from './children.js';
import { pointState, readSummary, type PointState, type PointSummary, type RunPoint } from './point.js';

const TRAIN_BIN = fileURLToPath(new URL('../../../bin/mlp-train.js', import.meta.url));
const EXIT_INTERRUPTED = 130; // mlp-train's code after a signal, once its checkpoint is written

/** How a point ended: its summary (and whether it ran now), or the stop that ended it. */
export type PointOutcome =
  | { kind: 'done'; summary: PointSummary; state: PointState }
  | { kind: 'stopped'; how: string }; // "exit 130" once its checkpoint is written, or the signal that killed it

/**
 * A run that failed, with mlp-train's error line. Most failures would repeat
 * (exit 1: a diverging config, a damaged file); `retryable` marks those that
 * another try may get past (the folder held by another process, a killed run).
 */
export class RunFailed extends UserError {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface PointOptions {
  threads: number | 'auto'; // training.threads of this process (bit-identical results for any count)
  force?: boolean; // start over even if the folder has a run of this point
  takeOverLock?: boolean; // mlp-worker: a lock another host holds is stale (the queue handed the run here)
  onStart?: (pid: number, state: PointState) => void;
}

export async function runPoint(group: ChildGroup, point: RunPoint, opts: PointOptions): Promise<PointOutcome> {
  const state = opts.force ? 'fresh' : pointState(point);
  if (state === 'finished') return { kind: 'done', summary: readSummary(point.dir), state };
  const threads = `training.threads=${opts.threads}`;
  let configFile: string | null = null;
  let args: string[];
  if (state === 'resume') {
    args = [TRAIN_BIN, '--resume', point.dir, '--set', threads, '--set', `training.epochs=${point.config.training.epochs}`];
  } else {
    configFile = join(tmpdir(), `mlp-point-${process.pid}-${Math.random().toString(36).slice(2, 10)}.json`);
    writeFileSync(configFile, JSON.stringify(point.config));
    args = [TRAIN_BIN, '--config', configFile, '--set', threads, '--out', point.dir, '--force'];
  }
  args.push('--quiet');
  if (opts.takeOverLock) args.push('--take-over-lock');
  try {
    const ended = await spawnTrain(group, args, (pid) => opts.onStart?.(pid, state));
    if (ended.code === 0) return { kind: 'done', summary: readSummary(point.dir), state };
    if (group.stopping !== null && (ended.code === EXIT_INTERRUPTED || ended.signal !== null)) {
      return { kind: 'stopped', how: ended.signal ?? `exit ${ended.code}` };
    }
    const why = ended.stderr.trim().split('\n').at(-1) ?? '';
    const how = ended.signal ?? `exit ${ended.code}`;
    const retryable = ended.code === EXIT_INTERRUPTED || ended.signal !== null || why.includes('in use by another mlp-train run');
    throw new RunFailed(`${point.name}: mlp-train failed (${how}): ${why}`, retryable);
  } finally {
    if (configFile !== null) rmSync(configFile, { force: true });
  }
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function spawnTrain(group: ChildGroup, args: readonly string[], onStart: (pid: number) => void): Promise<Ended> {
  return new Promise((resolvePromise, reject) => {
    const child = group.spawn(args);
    if (child.pid !== undefined) onStart(child.pid);
    let stderr = '';
    child.stdout.resume(); // --quiet: the results line only; the summary is read from the folder
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stderr }));
  });
}
