// A run that ends early keeps what it had written: Ctrl-C exits 130 with the
// weights of the last finished epoch; a diverging run exits 1 with one line.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, startCli, tempDir, type Exit } from '../helpers/cli.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = ['--set', 'data.limit=2000', '--set', 'model.layers=[784,16,10]', '--set', 'training.batch_size=10'];

/** Start mlp-train; once stderr shows `after`, send `signal`. Resolves with the exit code and stderr. */
function trainAndSignal(args: string[], after: RegExp, signal: NodeJS.Signals): Promise<Exit> {
  let sent = false;
  return startCli('mlp-train', args, {
    onStderr: (stderr, kill) => {
      if (!sent && after.test(stderr)) {
        sent = true;
        kill(signal);
      }
    },
  });
}

describe('Ctrl-C', () => {
  it('stops after the current batch, exits 130, and keeps the weights and metrics of the finished epochs', async () => {
    const out = join(dir, 'interrupted');
    const r = await trainAndSignal([...SMALL, '--set', 'training.epochs=500', '--out', out], /^epoch\s+2\/500 /m, 'SIGINT');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping after this batch/);
    const m = /interrupted at epoch (\d+), batch \d+\/\d+; checkpoint saved in .*, .*model\.safetensors holds the weights after epoch (\d+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const finished = Number(m![2]);
    expect(finished).toBeGreaterThanOrEqual(2);
    expect(finished).toBeLessThan(500);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(finished);
    expect(existsSync(join(out, 'summary.json'))).toBe(false); // the run did not finish
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
    const e = cli('mlp-eval', ['--weights', join(out, 'model.safetensors'), '--json']);
    expect(e.status).toBe(0);
    expect(JSON.parse(e.stdout).n).toBe(10000);
  });
});

describe('divergence', () => {
  it('a NaN loss ends the run with one line naming epoch, batch and the learning rate, exit 1', () => {
    const out = join(dir, 'diverged');
    // relu + softmax cross-entropy overflow to NaN; sigmoid/mse would only saturate.
    const args = ['--set', 'model.hidden=relu', '--set', 'model.output=softmax', '--set', 'loss=cross_entropy'];
    const r = cli('mlp-train', [...SMALL, ...args, '--set', 'training.lr=1e30', '--set', 'training.lr_schedule.warmup_steps=0', '--out', out]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^error: training diverged at epoch 1, batch \d+: the loss is (NaN|Infinity) \(the learning rate 1e\+30 is likely too large\)$/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(out, 'config.json'))).toBe(true); // written before training, intact
    expect(readdirSync(out).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
