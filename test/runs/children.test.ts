// The process group of the runners' children (mlp-sweep, mlp-reproduce,
// mlp-worker): each child leads its own group (so a terminal's Ctrl-C reaches
// only the parent), and stop() reaches every running child, which is then
// reaped. An mlp-train whose parent is killed outright stops by itself, with
// its checkpoint.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildGroup } from '../../src/runs/children.js';
import { alive, ROOT } from '../helpers/cli.js';
import { useTempFiles } from '../helpers/files.js';

const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL'); // only if a test failed and left it running
    } catch {
      // ESRCH: gone, as it should be
    }
  }
});


describe('ChildGroup', () => {
  it('starts each child as the leader of its own process group; stop() signals them all and they are reaped', async () => {
    const group = new ChildGroup();
    const children = [0, 1].map(() => group.spawn(['-e', 'setInterval(() => {}, 1000)']));
    for (const c of children) pids.push(c.pid!);
    const closed = children.map((c) => new Promise<string | null>((resolve) => c.on('close', (_code, signal) => resolve(signal))));
    expect(group.running).toBe(2);
    for (const c of children) {
      const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(c.pid)], { encoding: 'utf8' }).trim());
      expect(pgid).toBe(c.pid);
      expect(pgid).not.toBe(Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim()));
    }
    group.stop('SIGTERM');
    expect(group.stopping).toBe('SIGTERM');
    expect(await Promise.all(closed)).toEqual(['SIGTERM', 'SIGTERM']);
    expect(group.running).toBe(0);
    expect(children.map((c) => alive(c.pid!))).toEqual([false, false]);
    group.stop('SIGINT'); // nothing left to signal; the first signal stays the reason
    expect(group.stopping).toBe('SIGTERM');
  });
});

describe('an mlp-train child of a killed runner', () => {
  const tmp = useTempFiles('mlp-orphan-');

  it('sees its parent gone, stops after its batch with a checkpoint, and releases the run folder', async () => {
    // the "runner": a node process that starts mlp-train through a ChildGroup-like spawn and then waits
    const run = join(tmp.dir, 'run');
    const script = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, [${JSON.stringify(join(ROOT, 'bin', 'mlp-train.js'))}, '--set', 'model.layers=[784,16,10]',
        '--set', 'data.limit=2000', '--set', 'training.epochs=100000', '--out', ${JSON.stringify(run)}, '--quiet'],
        { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, MLP_PARENT_PID: String(process.pid) } });
      console.log(c.pid);
      setInterval(() => {}, 1000);`;
    const runner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const trainPid = await new Promise<number>((resolve) => runner.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    pids.push(trainPid);
    const t0 = Date.now();
    while (!existsSync(join(run, 'metrics.jsonl')) || readFileSync(join(run, 'metrics.jsonl'), 'utf8') === '') {
      if (Date.now() - t0 > 60_000) throw new Error('no first epoch');
      await new Promise((r) => setTimeout(r, 20));
    }
    runner.kill('SIGKILL');
    const t1 = Date.now();
    while (alive(trainPid)) {
      if (Date.now() - t1 > 30_000) throw new Error('mlp-train still running 30 s after its parent died');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(existsSync(join(run, 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(run, 'summary.json'))).toBe(false); // stopped, not finished
    expect(existsSync(join(run, '.mlp-run.lock'))).toBe(false); // released at its exit
  });
});
