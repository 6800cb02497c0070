// One seed of one row: a real `mlp-train` run in its own process (the same
// command a user types), its summary.json read back from --json.
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { ChildGroup } from './children.js';

const TRAIN_BIN = fileURLToPath(new URL('../../../bin/mlp-train.js', import.meta.url));
const EXIT_INTERRUPTED = 130; // mlp-train's code after a signal, once its checkpoint is written

/** Training, validation and test samples of a run, as mlp-train counted them (summary.json). */
export interface Samples {
  train: number;
  validation: number;
  test: number;
}

export interface SeedRun {
  seed: number;
  test_accuracy: number;
  epochs: number;
  train_seconds: number; // the epochs' training time (summary.json)
  total_seconds: number; // the whole command: data loading, training, evaluation
  run_dir: string;
  samples: Samples;
}

interface TrainSummary {
  test_accuracy: number;
  epochs: number;
  train_seconds: number;
  total_seconds: number;
  samples: Samples;
}

/** A run the group stopped: how it ended ("exit 130" once its checkpoint is written, or the signal that killed it). */
export interface SeedStopped {
  stopped: string;
}

/**
 * Train `configPath` with model.seed = seed and the extra --set assignments, into runDir (replaced),
 * as a child of `group`; `onStart` gets its PID. A run that ends on the group's stop signal resolves
 * to SeedStopped; any other failure rejects with one line.
 */
export function runSeed(
  group: ChildGroup,
  configPath: string,
  seed: number,
  sets: readonly string[],
  runDir: string,
  onStart: (pid: number) => void = () => {},
): Promise<SeedRun | SeedStopped> {
  const args = [TRAIN_BIN, '--config', configPath, '--set', `model.seed=${seed}`];
  for (const s of sets) args.push('--set', s);
  args.push('--out', runDir, '--force', '--quiet', '--json');
  return new Promise((resolvePromise, reject) => {
    const child = group.spawn(args);
    if (child.pid !== undefined) onStart(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (group.stopping !== null && (code === EXIT_INTERRUPTED || signal !== null)) {
        resolvePromise({ stopped: signal ?? `exit ${code}` });
        return;
      }
      if (code !== 0) {
        const why = stderr.trim().split('\n').at(-1) ?? '';
        reject(new UserError(`${configPath} seed ${seed}: mlp-train failed (${signal ?? `exit ${code}`}): ${why}`));
        return;
      }
      const s = JSON.parse(stdout) as TrainSummary;
      resolvePromise({
        seed,
        test_accuracy: s.test_accuracy,
        epochs: s.epochs,
        train_seconds: s.train_seconds,
        total_seconds: s.total_seconds,
        run_dir: runDir,
        samples: s.samples,
      });
    });
  });
}
