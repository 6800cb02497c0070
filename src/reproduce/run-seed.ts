// One seed of one row: a real `mlp-train` run in its own process (the same
// command a user types), its summary.json read back from --json.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

const TRAIN_BIN = fileURLToPath(new URL('../../../bin/mlp-train.js', import.meta.url));

export interface SeedRun {
  seed: number;
  test_accuracy: number;
  epochs: number;
  train_seconds: number; // the epochs' training time (summary.json)
  total_seconds: number; // the whole command: data loading, training, evaluation
  run_dir: string;
}

interface TrainSummary {
  test_accuracy: number;
  epochs: number;
  train_seconds: number;
  total_seconds: number;
}

/** Train `configPath` with model.seed = seed and the extra --set assignments, into runDir (replaced). */
export function runSeed(configPath: string, seed: number, sets: readonly string[], runDir: string): Promise<SeedRun> {
  const args = [TRAIN_BIN, '--config', configPath, '--set', `model.seed=${seed}`];
  for (const s of sets) args.push('--set', s);
  args.push('--out', runDir, '--force', '--quiet', '--json');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
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
      });
    });
  });
}
